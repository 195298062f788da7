// Command handler is the Azure Functions custom handler: one HTTP server that
// serves the forwarded /api routes and the non-HTTP function invocations.
//
// Usage:
//
//	handler [serve]   serve on FUNCTIONS_CUSTOMHANDLER_PORT (default 7071)
//	handler migrate   apply database migrations and exit
//	handler swa-config --dir <export> --storage-origin <origin>
//	                  write <export>/staticwebapp.config.json (Azure Static
//	                  Web Apps) with the policy serve uses for FRONTEND_DIR
//
// The importer and the video processor also run the binary as `handler
// sandbox-exec ... -- yt-dlp|ffprobe|ffmpeg ...` to start those tools
// confined (internal/sandbox); that is not for people.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"

	// Trust roots for TLS (PostgreSQL verify-full, rediss, Azure) when the
	// host image has none; the system's roots are used when present.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/videofn/videofn/internal/auth"
	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/config"
	"github.com/videofn/videofn/internal/httpapi"
	"github.com/videofn/videofn/internal/importer"
	"github.com/videofn/videofn/internal/jobs"
	"github.com/videofn/videofn/internal/mail"
	"github.com/videofn/videofn/internal/media"
	"github.com/videofn/videofn/internal/mediatool"
	"github.com/videofn/videofn/internal/postgres"
	"github.com/videofn/videofn/internal/processing"
	"github.com/videofn/videofn/internal/queue"
	"github.com/videofn/videofn/internal/ratelimit"
	"github.com/videofn/videofn/internal/redisstore"
	"github.com/videofn/videofn/internal/sandbox"
	"github.com/videofn/videofn/internal/secretbox"
	"github.com/videofn/videofn/internal/social"
	"github.com/videofn/videofn/internal/webapp"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == sandbox.Subcommand {
		// Nothing else: confine this process and exec the import tool.
		os.Exit(sandboxExec(os.Args[2:], os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		// The host logs stderr as errors: exactly what a failed start is.
		fmt.Fprintln(os.Stderr, "handler:", err)
		os.Exit(1)
	}
}

const usage = `usage: handler [serve | migrate | swa-config --dir <export> --storage-origin <origin> | dlq ... | reencrypt]
  serve       serve on FUNCTIONS_CUSTOMHANDLER_PORT (default 7071); the default
  migrate     apply database migrations (DATABASE_URL) and exit
  swa-config  write <export>/staticwebapp.config.json for Azure Static Web Apps:
              the security headers and Content-Security-Policy serve sends with
              FRONTEND_DIR=<export>, for a blob endpoint at <origin>
              (https://<account>.blob.core.windows.net)
  dlq         list, show, replay or purge dead letters (handler dlq help)
  reencrypt   move every stored secret to DATA_ENCRYPTION_KEY (idempotent,
              resumable), then DATA_ENCRYPTION_KEY_PREVIOUS can be removed`

// run is the whole program; main only wires the process to it. Tests call it
// with their own environment and stdout, and port 0.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 1 {
		cmd = args[1]
	}
	if cmd == "swa-config" {
		return swaConfig(args[2:], stdout)
	}
	if cmd == "dlq" {
		return dlq(ctx, args[2:], getenv, stdout)
	}
	if len(args) > 2 {
		return fmt.Errorf("unexpected arguments %q\n%s", args[2:], usage)
	}
	switch cmd {
	case "serve":
		return serve(ctx, getenv, stdout)
	case "migrate":
		return migrate(ctx, getenv, stdout)
	case "reencrypt":
		return reencrypt(ctx, getenv, stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func migrate(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	logger := newLogger(stdout, slog.LevelInfo)
	dbURL, err := config.LoadDatabaseURL(getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	applied, err := postgres.Migrate(ctx, dbURL.Reveal(), logger)
	if err != nil {
		return err
	}
	logger.Info("migrations done", "applied", applied)
	return nil
}

// Shutdown (SIGTERM or SIGINT) runs in three bounded steps, so the process
// exits at most SHUTDOWN_GRACE + cancelWait + closeWait after the signal:
//
//  1. Stop taking work and let running work finish, for SHUTDOWN_GRACE: the
//     listener is closed and the local queue consumers claim nothing more.
//  2. Cancel what is still running and wait up to cancelWait for it to
//     return: request contexts (the host's queue invocations are long HTTP
//     requests) and local queue handlers are cancelled. A cancelled import
//     kills yt-dlp, commits nothing and answers 5xx, so its message is
//     delivered again (the local queue gives it back at once).
//  3. Close the PostgreSQL and Redis pools, waiting up to closeWait: a pool
//     waits for connections still held by work that ignored cancellation.
const (
	cancelWait = 5 * time.Second
	closeWait  = 2 * time.Second
)

func serve(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := newLogger(stdout, cfg.LogLevel)
	redisstore.RouteLogs(logger)
	var shutdownStart time.Time // set when the signal arrives
	defer func() {
		if !shutdownStart.IsZero() {
			logger.Info("stopped", "after", time.Since(shutdownStart).String())
		}
	}()

	// Listen first: the host polls GET / and everything below is
	// construction only (no dependency is contacted).
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close() // for the early returns; Serve and Shutdown close it too

	var pgOpts []postgres.Option
	var redisOpts []redisstore.Option
	if cfg.DatabaseAuth == "entra" || cfg.RedisAuth == "entra" {
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return fmt.Errorf("entra credential: %w", err)
		}
		if cfg.DatabaseAuth == "entra" {
			pgOpts = append(pgOpts, postgres.WithPasswordFunc(tokenFunc(cred, "https://ossrdbms-aad.database.windows.net/.default")))
		}
		if cfg.RedisAuth == "entra" {
			redisOpts = append(redisOpts, redisstore.WithPasswordFunc(tokenFunc(cred, "https://redis.azure.com/.default")))
		}
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL.Reveal(), pgOpts...)
	if err != nil {
		return err
	}
	pools := map[string]func(){"postgres": db.Close}
	defer func() { closeWithin(logger, closeWait, pools) }()
	rdb, err := redisstore.Open(cfg.RedisURL.Reveal(), cfg.RedisPrefix, redisOpts...)
	if err != nil {
		return err
	}
	pools["redis"] = func() { rdb.Close() }
	sender, local, err := newQueueSender(cfg, db, logger)
	if err != nil {
		return err
	}
	authService, err := newAuthService(cfg, db, rdb, sender, logger)
	if err != nil {
		return err
	}
	store, err := blob.New(blob.Options{
		ConnectionString: cfg.StorageConnectionString.Reveal(),
		AccountURL:       cfg.StorageAccountURL,
		Container:        cfg.BlobContainer,
	})
	if err != nil {
		return err
	}
	signer, err := blob.NewSigner(store, blob.SignerOptions{})
	if err != nil {
		return err
	}
	var frontend http.Handler
	if cfg.FrontendDir != "" {
		site, err := openSite(cfg.FrontendDir, store.Service().URL())
		if err != nil {
			return err
		}
		defer site.Close()
		frontend = site
	}
	limiter := ratelimit.New(rdb.Client, rdb.Prefix, logger)
	// Every upload completion and finished import sends a probe to the
	// processing queue (the video records that processing is pending in
	// the same transaction, so the sweeper heals a lost send).
	probes := processing.Queue{Sender: sender, Name: cfg.ProcessingQueue}
	mediaService := media.NewService(media.Options{
		Container:      cfg.BlobContainer,
		UploadMaxBytes: cfg.UploadMaxBytes,
		QuotaBytes:     cfg.UserStorageQuotaBytes,
		Limiter:        limiter,
		Probes:         probes,
		Logger:         logger,
	}, postgres.VideoStore{DB: db}, signer, store)

	bg, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	// The context of every HTTP request: it outlives ctx by the grace.
	requests, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	if cfg.MigrateOnStart {
		// In the background: start-up must not wait for PostgreSQL. The
		// advisory lock in Migrate lets every instance try at once.
		go migrateInBackground(bg, db, logger)
	}
	if cfg.StorageConnectionString != "" {
		// Development storage (Azurite) starts empty; in Azure the
		// infrastructure creates the container and sets CORS.
		go ensureContainer(bg, store, append([]string{cfg.FrontendURL.String()}, cfg.AllowedOrigins...), logger)
	}

	videos := postgres.Jobs{DB: db}
	progress := importer.ProgressStore{Client: rdb}
	importBlobs := importer.ContainerBlobs{Client: store.Container(), Name: store.ContainerName()}
	confine, sandboxNotice, err := importSandbox(logger)
	if err != nil {
		return err
	}
	// The importer itself acknowledges messages for missing, finished or
	// cancelled imports, so it needs no Gatekeeper in front.
	importWorker := jobs.Imports{
		Runner: importer.New(importer.Options{
			YTDLPPath:    cfg.YTDLPPath,
			MaxBytes:     cfg.ImportMaxBytes,
			QuotaBytes:   cfg.UserStorageQuotaBytes,
			AllowPrivate: cfg.ImportAllowPrivateNetworks,
			Sandbox:      confine,
			Probes:       probes,
		}, postgres.ImportStore{DB: db}, importBlobs, progress, logger),
	}
	// ffprobe and ffmpeg run in the import's sandbox; their one reachable
	// port is a per-run proxy to the storage endpoint only.
	tools, err := mediatool.New(mediatool.Options{
		FFprobePath: cfg.FFprobePath,
		FFmpegPath:  cfg.FFmpegPath,
		Storage:     store.Container().URL(),
		Sandbox:     confine,
	})
	if err != nil {
		return err
	}
	clipService, clipWorker, err := newClips(cfg, db, rdb, store, signer, sender, limiter, tools, logger)
	if err != nil {
		return err
	}
	processingStore := postgres.ProcessingStore{DB: db}
	videoProcessor := &processing.Dispatcher{
		Probes: processing.New(processing.Options{}, processingStore, signer,
			processing.ContainerBlobs{Client: store.Container(), Name: store.ContainerName()}, tools, logger),
		Clips:  clipWorker,
		Logger: logger,
	}
	box, err := dataBox(cfg)
	if err != nil {
		return err
	}
	socialAccounts := newSocialAccounts(cfg, db, box, logger)
	postService, postWorker, postSweeper := newPosts(cfg, db, store, sender, socialAccounts, box, logger)
	publishWorker := jobs.Posts{Publisher: postWorker, Logger: logger}
	importService := importer.NewService(importer.ServiceOptions{
		Queue:        cfg.ImportQueue,
		MaxActive:    cfg.ImportMaxActivePerUser,
		AllowPrivate: cfg.ImportAllowPrivateNetworks,
	}, postgres.ImportService{DB: db}, importBlobs, sender, progress, limiter, logger)
	// The local queue consumers stop claiming when bg ends, give running
	// handlers the grace and cancel them after it (steps 1 and 2 above).
	var consumers sync.WaitGroup
	consumersDone := make(chan struct{})
	var consumersDeadline time.Time // set when the shutdown starts
	defer func() {
		stopBackground()
		if consumersDeadline.IsZero() {
			consumersDeadline = time.Now().Add(cfg.ShutdownGrace + cancelWait)
		}
		select {
		case <-consumersDone:
		case <-time.After(time.Until(consumersDeadline)):
			logger.Warn("local queue consumers still running after the grace and the cancellation wait; exiting")
		}
	}()
	drain := queue.ConsumerOptions{DrainTimeout: max(cfg.ShutdownGrace, time.Nanosecond), AbortTimeout: cancelWait}
	if local != nil {
		// No Service Bus: this process consumes the imports queue itself,
		// with the concurrency host.json gives the Functions host.
		consumers.Go(func() {
			o := drain
			o.Concurrency, o.Visibility, o.MaxDeliveries = importConcurrency, 5*time.Minute, 5
			err := local.Consume(bg, cfg.ImportQueue, jobs.LocalHandler(importWorker), o)
			if err != nil {
				logger.Error("local import queue stopped", "err", err.Error())
			}
		})
		// And the processing queue: probes, posters and clips.
		consumers.Go(func() {
			o := drain
			o.Concurrency, o.Visibility, o.MaxDeliveries = processingConcurrency, 10*time.Minute, 5
			err := local.Consume(bg, cfg.ProcessingQueue, jobs.LocalHandler(videoProcessor), o)
			if err != nil {
				logger.Error("local processing queue stopped", "err", err.Error())
			}
		})
		// And the publish queue: scheduled posts, delivered at their time.
		consumers.Go(func() {
			o := drain
			o.Concurrency, o.Visibility, o.MaxDeliveries = publishConcurrency, 5*time.Minute, 5
			err := local.Consume(bg, cfg.PublishQueue, jobs.LocalHandler(publishWorker), o)
			if err != nil {
				logger.Error("local publish queue stopped", "err", err.Error())
			}
		})
		// And the mail queue: the outbox's mails are sent from here.
		consumers.Go(func() {
			o := drain
			o.Concurrency, o.Visibility, o.MaxDeliveries = mailConcurrency, 5*time.Minute, 5
			err := local.Consume(bg, cfg.MailQueue, jobs.LocalMail(authService), o)
			if err != nil {
				logger.Error("local mail queue stopped", "err", err.Error())
			}
		})
	}
	go func() { consumers.Wait(); close(consumersDone) }()

	srv := httpapi.NewServer(httpapi.Options{
		Logger:         logger,
		CookieSecure:   cfg.CookieSecure,
		AllowedOrigins: cfg.AllowedOrigins,
		Checks: map[string]httpapi.Pinger{
			"postgres": db,
			"redis":    rdb,
			"storage":  store,
		},
		Notices:        map[string]httpapi.Notice{"sandbox": sandboxNotice},
		ImportWorker:   importWorker,
		VideoProcessor: videoProcessor,
		PublishWorker:  publishWorker,
		Sweeper: &jobs.Sweeper{Purger: videos, Uploads: mediaService, Imports: importService, Mail: authService,
			Processing: &processing.Sweeper{Store: processingStore, Queue: probes}, Clips: clipService, Posts: postSweeper,
			Retention: 7 * 24 * time.Hour, Logger: logger},

		Auth:             authService,
		FrontendURL:      cfg.FrontendURL.String(),
		TrustedProxyHops: cfg.TrustedProxyHops,
		SessionAbsolute:  sessionAbsolute,

		Media:     mediaService,
		Imports:   importService,
		PollReads: pollReads(rdb, progress),
		Clips:     clipService,
		Social:    socialAccounts,
		Posts:     postService,

		Frontend: frontend,
	})

	httpServer := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// No WriteTimeout: queue invocations run as long as the function
		// timeout allows; each handler bounds its own work.
		IdleTimeout: 2 * time.Minute,
		ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		// Server.Shutdown does not cancel running requests: their context
		// is this one, cancelled once the grace has passed.
		BaseContext: func(net.Listener) context.Context { return requests },
	}
	logger.Info("listening", "addr", ln.Addr().String(), "config", cfg)

	errc := make(chan error, 1)
	// net/http's own error replies (431, 400, ...) get the security headers too.
	go func() { errc <- httpServer.Serve(httpapi.ListenerWithSecurityHeaders(ln, cfg.CookieSecure)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	start := time.Now()
	shutdownStart = start
	logger.Info("shutting down", "grace", cfg.ShutdownGrace.String(), "bound", (cfg.ShutdownGrace + cancelWait + closeWait).String())
	consumersDeadline = start.Add(cfg.ShutdownGrace + cancelWait)
	stopBackground() // the local queue consumers stop claiming
	shutdownHTTP(httpServer, cfg.ShutdownGrace, cancelRequests, logger)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	// The deferred calls wait for the consumers (until consumersDeadline)
	// and then close the pools (closeWait).
	return nil
}

// openSite opens the frontend's static export in dir for serving, with a
// policy that allows the blob endpoint (the origin of blobEndpoint, where
// upload and playback URLs point).
func openSite(dir, blobEndpoint string) (*webapp.Site, error) {
	origin, err := webapp.Origin(blobEndpoint)
	if err != nil {
		return nil, fmt.Errorf("storage origin for the frontend: %w", err)
	}
	return webapp.Open(dir, origin)
}

// swaConfig is `handler swa-config --dir <export> --storage-origin
// <origin>`: it writes <export>/staticwebapp.config.json from the same code
// that serves the export, so both hostings send the same policy.
func swaConfig(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("swa-config", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "the frontend's static export (frontend/out)")
	origin := fs.String("storage-origin", "", "the blob endpoint's origin, https://<account>.blob.core.windows.net")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("swa-config: %w\n%s", err, usage)
	}
	if *dir == "" || *origin == "" || fs.NArg() > 0 {
		return fmt.Errorf("swa-config needs --dir and --storage-origin and nothing else\n%s", usage)
	}
	storage, err := webapp.Origin(*origin)
	if err != nil {
		return fmt.Errorf("swa-config: --storage-origin: %w", err)
	}
	site, err := webapp.Open(*dir, storage)
	if err != nil {
		return err
	}
	defer site.Close()
	// Static Web Apps serves HTTPS only: the headers of COOKIE_SECURE=true.
	b, err := site.StaticWebAppConfig(httpapi.SecurityHeaders(true))
	if err != nil {
		return err
	}
	name := filepath.Join(*dir, webapp.StaticWebAppConfigName)
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return fmt.Errorf("swa-config: %w", err)
	}
	fmt.Fprintf(stdout, "wrote %s\n", name)
	return nil
}

// shutdownHTTP closes the listener, lets running requests finish for grace,
// then cancels their context (cancelRequests) and waits up to cancelWait for
// them to answer, and finally closes every connection that is left.
func shutdownHTTP(srv *http.Server, grace time.Duration, cancelRequests context.CancelFunc, logger *slog.Logger) {
	graceCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(graceCtx); err == nil {
		return
	}
	logger.Warn("requests still running after the shutdown grace; cancelling them", "grace", grace.String())
	cancelRequests()
	cancelCtx, cancel2 := context.WithTimeout(context.Background(), cancelWait)
	defer cancel2()
	if err := srv.Shutdown(cancelCtx); err != nil {
		logger.Warn("cancelled requests did not answer in time; closing their connections", "wait", cancelWait.String())
		srv.Close()
	}
}

// closeWithin closes the pools (name to Close) at once and waits for them
// at most d: a pool's Close waits for every connection still in use, and the
// process must exit anyway (the operating system then closes the sockets).
func closeWithin(logger *slog.Logger, d time.Duration, pools map[string]func()) {
	timeout := time.After(d)
	done := make(chan string, len(pools))
	open := map[string]bool{}
	for name, closeFn := range pools {
		open[name] = true
		go func() { closeFn(); done <- name }()
	}
	for len(open) > 0 {
		select {
		case name := <-done:
			delete(open, name)
		case <-timeout:
			logger.Warn("pools still closing; exiting without waiting", "pools", slices.Sorted(maps.Keys(open)), "wait", d.String())
			return
		}
	}
}

// importConcurrency bounds the imports one instance runs at once. It
// equals host.json's serviceBus.maxConcurrentCalls (a test keeps them
// equal), so the local queue behaves like the Functions host.
const importConcurrency = 4

// processingConcurrency bounds the processing messages (probes, posters,
// clips) one instance handles at once, like host.json's maxConcurrentCalls.
const processingConcurrency = 4

// mailConcurrency bounds the mails one instance sends at once (the local
// queue; on Service Bus, host.json's maxConcurrentCalls applies).
const mailConcurrency = 4

// newQueueSender returns the Service Bus sender when a namespace is
// configured, and otherwise the local PostgreSQL queue (returned twice: as
// the sender and as the queue this process consumes).
func newQueueSender(cfg *config.Config, db *postgres.DB, logger *slog.Logger) (queue.Sender, *queue.Local, error) {
	if !cfg.UsesServiceBus() {
		local := queue.NewLocal(db.Pool(), logger)
		return local, local, nil
	}
	var cred azcore.TokenCredential
	if cfg.ServiceBusNamespace != "" {
		c, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, nil, fmt.Errorf("service bus credential: %w", err)
		}
		cred = c
	}
	sb, err := queue.NewServiceBus(cfg.ServiceBusConnectionString.Reveal(), cfg.ServiceBusNamespace, cred)
	if err != nil {
		return nil, nil, err
	}
	return sb, nil, nil
}

// Session lifetimes: a session ends after a week without use or a month in
// all, whichever comes first.
const (
	sessionIdle     = 7 * 24 * time.Hour
	sessionAbsolute = 30 * 24 * time.Hour
)

// newAuthService wires the account service: mail through the outbox, woken
// on MAIL_QUEUE through queues and sent by SMTP (or to the log when
// SMTP_HOST is unset), rate limits and hand-off codes in Redis.
func newAuthService(cfg *config.Config, db *postgres.DB, rdb *redisstore.Client, queues queue.Sender, logger *slog.Logger) (*auth.Service, error) {
	var sender mail.Sender = mail.NewLog(logger)
	if cfg.SMTPHost != "" {
		smtp, err := mail.NewSMTP(mail.SMTPConfig{
			Host: cfg.SMTPHost, Port: cfg.SMTPPort, Username: cfg.SMTPUsername,
			Password: cfg.SMTPPassword.Reveal(), From: cfg.SMTPFrom,
		})
		if err != nil {
			return nil, err
		}
		sender = smtp
	}
	tokens, err := auth.NewRotatingTokens([]byte(cfg.JWTSecret.Reveal()), []byte(cfg.JWTSecretPrevious.Reveal()), 15*time.Minute, nil)
	if err != nil {
		return nil, err
	}
	svc := auth.NewService(auth.Options{
		BcryptCost:      cfg.BcryptCost,
		FrontendURL:     cfg.FrontendURL,
		SessionIdle:     sessionIdle,
		SessionAbsolute: sessionAbsolute,
		MailQueue:       queues,
		MailQueueName:   cfg.MailQueue,
	}, postgres.AuthStore{DB: db}, ratelimit.New(rdb.Client, rdb.Prefix, logger), sender, redisstore.Handoff{Client: rdb}, tokens, logger, nil)
	// Sessions are read from Redis first; PostgreSQL answers what Redis
	// does not know (auth.SessionCache).
	svc.EnableSessionCache(redisstore.Sessions{Client: rdb})
	if cfg.GoogleEnabled() {
		svc.EnableGoogle(auth.GoogleOptions{
			ClientID: cfg.GoogleClientID, ClientSecret: cfg.GoogleClientSecret.Reveal(), RedirectURL: cfg.GoogleRedirectURL,
			AuthURL: cfg.GoogleAuthURL, TokenURL: cfg.GoogleTokenURL, UserinfoURL: cfg.GoogleUserinfoURL,
		}, []byte(cfg.JWTSecret.Reveal()), []byte(cfg.JWTSecretPrevious.Reveal()))
	}
	return svc, nil
}

// pollReads reads an import poll's session and progress from Redis in one
// pipelined round trip. Each read keeps its own error: a missing key is no
// error, and a failed round trip fails both (PostgreSQL then answers).
func pollReads(rdb *redisstore.Client, progress importer.ProgressStore) httpapi.PollReader {
	sessions := redisstore.Sessions{Client: rdb}
	return func(ctx context.Context, sessionID, videoID uuid.UUID) httpapi.PollRead {
		pipe := rdb.Pipeline()
		session := sessions.Queue(pipe, sessionID)
		prog := progress.Queue(pipe, videoID)
		_, _ = pipe.Exec(ctx) // each command carries its own result
		var read httpapi.PollRead
		read.Session, read.SessionErr = session()
		read.Progress, read.ProgressErr = prog()
		return read
	}
}

// dataBox is the box every stored secret is sealed with (social tokens,
// OAuth verifiers, upload sessions): it seals under DATA_ENCRYPTION_KEY and
// also opens what DATA_ENCRYPTION_KEY_PREVIOUS sealed.
func dataBox(cfg *config.Config) (*secretbox.Box, error) {
	// Both are checked by config.Load: base64 of 32 bytes.
	current, _ := base64.StdEncoding.DecodeString(cfg.DataEncryptionKey.Reveal())
	previous, _ := base64.StdEncoding.DecodeString(cfg.DataEncryptionKeyPrevious.Reveal())
	box, err := secretbox.FromKeys(current, previous)
	if err != nil {
		return nil, fmt.Errorf("DATA_ENCRYPTION_KEY: %w", err)
	}
	return box, nil
}

// newSocialAccounts wires the social account service: tokens sealed with
// box (dataBox), and YouTube when YOUTUBE_CLIENT_ID is set. Posts get
// access tokens from it (social.Accounts.AccessToken).
func newSocialAccounts(cfg *config.Config, db *postgres.DB, box *secretbox.Box, logger *slog.Logger) *social.Accounts {
	connectors := map[string]social.Connector{}
	if cfg.YouTubeEnabled() {
		connectors[social.YouTube] = social.NewYouTube(social.YouTubeOptions{
			ClientID: cfg.YouTubeClientID, ClientSecret: cfg.YouTubeClientSecret.Reveal(), RedirectURL: cfg.YouTubeRedirectURL,
			AuthURL: cfg.YouTubeAuthURL, TokenURL: cfg.YouTubeTokenURL, RevokeURL: cfg.YouTubeRevokeURL, APIURL: cfg.YouTubeAPIURL,
		})
	}
	return social.NewAccounts(social.Options{
		Store: postgres.SocialStore{DB: db}, Box: box, Connectors: connectors, FrontendURL: cfg.FrontendURL, Logger: logger,
	})
}

// tokenFunc returns a password source that hands out Entra ID access tokens
// for scope (the credential caches them until shortly before expiry).
func tokenFunc(cred azcore.TokenCredential, scope string) func(context.Context) (string, error) {
	return func(ctx context.Context) (string, error) {
		tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
		if err != nil {
			return "", err
		}
		return tok.Token, nil
	}
}

// migrateInBackground applies migrations, retrying while PostgreSQL is
// unreachable, until it succeeds or ctx ends.
func migrateInBackground(ctx context.Context, db *postgres.DB, logger *slog.Logger) {
	retry(ctx, logger, "migrations", time.Second, time.Minute, func(ctx context.Context) error {
		n, err := postgres.MigrateDB(ctx, db, logger)
		if err == nil {
			logger.Info("migrations done", "applied", n)
		}
		return err
	})
}

// ensureContainer creates the media container and its CORS rules,
// retrying while storage is unreachable (Azurite may start after the
// handler).
func ensureContainer(ctx context.Context, store *blob.Store, origins []string, logger *slog.Logger) {
	retry(ctx, logger, "blob container", 500*time.Millisecond, 30*time.Second, func(ctx context.Context) error {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := store.EnsureContainer(attempt); err != nil {
			return err
		}
		if err := store.AllowBrowserUploads(attempt, origins); err != nil {
			return err
		}
		logger.Info("blob container ready", "container", store.ContainerName(), "cors_origins", origins)
		return nil
	})
}

// retry calls fn until it succeeds or ctx ends, waiting from first to at
// most limit between attempts (doubling), and logs each failure.
func retry(ctx context.Context, logger *slog.Logger, what string, first, limit time.Duration, fn func(context.Context) error) {
	delay := first
	for {
		err := fn(ctx)
		if err == nil || ctx.Err() != nil {
			return
		}
		logger.Warn(what+" not ready; retrying", "err", err.Error(), "retry_in", delay.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, limit)
	}
}
