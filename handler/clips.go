package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/clips"
	"github.com/videofn/videofn/internal/config"
	"github.com/videofn/videofn/internal/httpapi"
	"github.com/videofn/videofn/internal/importer"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/ratelimit"
	"github.com/videofn/videofn/internal/redisstore"
)

// clipRenderer is the video-processor's "clip" task: clips.Renderer behind
// the dispatcher's ClipRenderer interface (clips cannot import httpapi,
// which serves its routes).
type clipRenderer struct{ r *clips.Renderer }

// RenderClip renders the clip; the delivery adds nothing the renderer needs
// (its attempt number fences redeliveries).
func (c clipRenderer) RenderClip(ctx context.Context, clipID uuid.UUID, _ httpapi.Delivery) error {
	return c.r.Run(ctx, clipID)
}

// newClips wires the clip routes' service and the renderer. tool runs
// ffmpeg and ffprobe (the processing's mediatool.Runner).
func newClips(cfg *config.Config, db *postgres.DB, rdb *redisstore.Client, store *blob.Store, signer *blob.Signer,
	sender queue.Sender, limiter ratelimit.Checker, tool clips.Tool, logger *slog.Logger) (*clips.Service, clipRenderer, error) {
	if tool == nil {
		return nil, clipRenderer{}, fmt.Errorf("clips: no media tool runner")
	}
	progress := clips.ProgressStore{Client: rdb}
	svc := clips.NewService(clips.ServiceOptions{
		Queue:       cfg.ProcessingQueue,
		MaxSeconds:  float64(cfg.ClipMaxSeconds),
		MaxInFlight: cfg.ClipsInFlightPerUser,
	}, postgres.ClipStore{DB: db}, signer, store, sender, progress, limiter, logger)
	r := clips.NewRenderer(clips.RenderOptions{QuotaBytes: cfg.UserStorageQuotaBytes}, postgres.ClipStore{DB: db},
		importer.ContainerBlobs{Client: store.Container(), Name: store.ContainerName()}, signer, tool, progress, logger)
	return svc, clipRenderer{r: r}, nil
}
