package main

import (
	"log/slog"
	"net/http"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/config"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/posts"
	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/secretbox"
	"github.com/videofn/videofn/internal/social"
)

// publishConcurrency bounds the posts one instance publishes at once (the
// local queue; host.json's maxConcurrentCalls on Service Bus). Publishing
// streams, so each costs a few buffers, not the file.
const publishConcurrency = 4

// newPosts wires the post routes' service, the publish worker (YouTube's
// resumable upload, streaming ranged reads of the blob; tokens from the
// social accounts; upload sessions sealed with box, the social accounts'
// box) and the posts' sweeper.
func newPosts(cfg *config.Config, db *postgres.DB, store *blob.Store, sender queue.Sender, accounts *social.Accounts,
	box *secretbox.Box, logger *slog.Logger) (*posts.Service, *posts.Worker, *posts.Sweeper) {
	q := posts.Queue{Sender: sender, Name: cfg.PublishQueue}
	st := postgres.PostStore{DB: db}
	svc := posts.NewService(st, q, nil, logger)
	worker := posts.NewWorker(posts.WorkerOptions{}, st, accounts, posts.BlobRanges{Client: store.Container()},
		map[string]posts.Publisher{
			social.YouTube: &posts.YouTube{UploadURL: cfg.YouTubeUploadURL, ChunkSize: cfg.PublishChunkBytes, Client: &http.Client{}},
		}, box, logger)
	return svc, worker, &posts.Sweeper{Store: st, Queue: q}
}
