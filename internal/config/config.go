// Package config reads and validates every setting the handler uses. It is the
// only package that knows environment variable names: the rest of the program
// receives a Config. Load reports every problem at once, and secrets are held
// in a Secret type that never prints its value.
package config

import (
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Secret is a string that must never be logged. Its String, GoString and
// LogValue methods all return a fixed placeholder.
type Secret string

// Reveal returns the secret value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

func (s Secret) String() string   { return redacted(s) }
func (s Secret) GoString() string { return redacted(s) }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted(s)) }

// MarshalText keeps encoders from printing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted(s)), nil }

func redacted(s Secret) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// Size of common caps, in bytes.
const (
	MiB = int64(1) << 20
	GiB = int64(1) << 30
)

// Config is every setting of the handler, validated.
type Config struct {
	Port     int        // FUNCTIONS_CUSTOMHANDLER_PORT, default 7071
	LogLevel slog.Level // LOG_LEVEL: debug, info (default), warn, error

	DatabaseURL    Secret // DATABASE_URL (may carry a password)
	MigrateOnStart bool   // MIGRATE_ON_START, default false: serve applies migrations in the background (Azure, where no one runs `handler migrate`)
	DatabaseAuth   string // DATABASE_AUTH: "password" (default: whatever the URL says) or "entra" (token from the managed identity)
	RedisURL       Secret // REDIS_URL (may carry a password)
	RedisAuth      string // REDIS_AUTH: "password" (default) or "entra"
	RedisPrefix    string // REDIS_KEY_PREFIX, default "videofn:": prepended to every key (several apps or environments on one Redis)

	StorageConnectionString Secret // AZURE_STORAGE_CONNECTION_STRING (Azurite, development)
	StorageAccountURL       string // AZURE_STORAGE_ACCOUNT_URL (managed identity, production)
	BlobContainer           string // BLOB_CONTAINER, default "videos"

	ServiceBusConnectionString Secret // ServiceBusConnection
	ServiceBusNamespace        string // ServiceBusConnection__fullyQualifiedNamespace
	ImportQueue                string // IMPORT_QUEUE, default "imports"
	ProcessingQueue            string // PROCESSING_QUEUE, default "video-processing"
	MailQueue                  string // MAIL_QUEUE, default "mail"
	PublishQueue               string // PUBLISH_QUEUE, default "publish"
	// PublishChunkBytes is the size of a resumable-upload chunk when
	// publishing a post (PUBLISH_CHUNK_BYTES, default 8 MiB, a multiple of
	// 256 KiB between 256 KiB and 64 MiB).
	PublishChunkBytes int64

	JWTSecret Secret // JWT_SECRET, at least 32 bytes
	// JWTSecretPrevious (JWT_SECRET_PREVIOUS, optional, at least 32 bytes)
	// is the secret before the last rotation: access tokens, CSRF tokens,
	// refresh-token successors and OAuth state cookies signed under it still
	// verify; nothing is signed with it.
	JWTSecretPrevious Secret
	DataEncryptionKey Secret // DATA_ENCRYPTION_KEY, base64 of 32 bytes (AES-256-GCM for stored third-party tokens)
	// DataEncryptionKeyPrevious (DATA_ENCRYPTION_KEY_PREVIOUS, optional,
	// base64 of 32 bytes) is the key before the last rotation: values
	// sealed under it still open, and are sealed under DATA_ENCRYPTION_KEY
	// when next written.
	DataEncryptionKeyPrevious Secret
	BcryptCost                int      // BCRYPT_COST, default 12
	FrontendURL               *url.URL // FRONTEND_URL, an origin
	AllowedOrigins            []string // ALLOWED_ORIGINS, exact origins
	CookieSecure              bool     // COOKIE_SECURE, default true
	TrustedProxyHops          int      // TRUSTED_PROXY_HOPS, default 1: proxies that append to X-Forwarded-For

	SMTPHost     string // SMTP_HOST; empty = mails are logged
	SMTPPort     int    // SMTP_PORT, default 587
	SMTPUsername string // SMTP_USERNAME
	SMTPPassword Secret // SMTP_PASSWORD
	SMTPFrom     string // SMTP_FROM

	GoogleClientID     string // GOOGLE_CLIENT_ID
	GoogleClientSecret Secret // GOOGLE_CLIENT_SECRET
	GoogleRedirectURL  string // GOOGLE_REDIRECT_URL
	GoogleAuthURL      string // GOOGLE_AUTH_URL
	GoogleTokenURL     string // GOOGLE_TOKEN_URL
	GoogleUserinfoURL  string // GOOGLE_USERINFO_URL

	YouTubeClientID     string // YOUTUBE_CLIENT_ID; empty = YouTube is not offered
	YouTubeClientSecret Secret // YOUTUBE_CLIENT_SECRET
	YouTubeRedirectURL  string // YOUTUBE_REDIRECT_URL, default <FRONTEND_URL>/api/social-accounts/youtube/callback
	YouTubeAuthURL      string // YOUTUBE_AUTH_URL
	YouTubeTokenURL     string // YOUTUBE_TOKEN_URL
	YouTubeRevokeURL    string // YOUTUBE_REVOKE_URL
	YouTubeAPIURL       string // YOUTUBE_API_URL: base of the Data API (channels.list)
	YouTubeUploadURL    string // YOUTUBE_UPLOAD_URL: the resumable upload endpoint

	YTDLPPath                  string // YTDLP_PATH, default "yt-dlp"
	FFmpegPath                 string // FFMPEG_PATH, default "ffmpeg": poster and clip rendering (always sandboxed)
	FFprobePath                string // FFPROBE_PATH, default "ffprobe": video metadata (always sandboxed)
	ImportMaxBytes             int64  // IMPORT_MAX_BYTES, default 2 GiB
	UploadMaxBytes             int64  // UPLOAD_MAX_BYTES, default 5 GiB
	UserStorageQuotaBytes      int64  // USER_STORAGE_QUOTA_BYTES, default 20 GiB: stored bytes per user, pending uploads included
	ImportAllowPrivateNetworks bool   // IMPORT_ALLOW_PRIVATE_NETWORKS, default false
	ImportMaxActivePerUser     int    // IMPORT_MAX_ACTIVE_PER_USER, default 3: imports queued or downloading at once

	ClipMaxSeconds       int // CLIP_MAX_SECONDS, default 180: the longest clip a user may make
	ClipsInFlightPerUser int // CLIPS_IN_FLIGHT_PER_USER, default 3: clips a user may have queued or processing at once

	// FrontendDir (FRONTEND_DIR, default unset) is the frontend's static
	// export (a relative path is from the working directory, the deployed
	// package's root in Azure): when set, the handler serves it for GET and
	// HEAD of every path outside /api/.
	FrontendDir string

	// ShutdownGrace (SHUTDOWN_GRACE, a Go duration, default 10s, at most
	// 5m) is how long running requests and queue deliveries may finish
	// after SIGTERM or SIGINT before they are cancelled.
	ShutdownGrace time.Duration
}

// UsesServiceBus reports whether a Service Bus namespace is configured; when
// it is not, messages go to the local durable queue.
func (c *Config) UsesServiceBus() bool {
	return c.ServiceBusConnectionString != "" || c.ServiceBusNamespace != ""
}

// GoogleEnabled reports whether Google sign-in is configured.
func (c *Config) GoogleEnabled() bool { return c.GoogleClientID != "" }

// YouTubeEnabled reports whether YouTube accounts can be connected.
func (c *Config) YouTubeEnabled() bool { return c.YouTubeClientID != "" }

// LogValue lists the settings that are safe to log: secrets show only whether
// they are set.
func (c *Config) LogValue() slog.Value {
	set := func(s Secret) bool { return s != "" }
	return slog.GroupValue(
		slog.Int("port", c.Port),
		slog.Bool("database_url_set", set(c.DatabaseURL)),
		slog.String("database_auth", c.DatabaseAuth),
		slog.String("redis_auth", c.RedisAuth),
		slog.Int("trusted_proxy_hops", c.TrustedProxyHops),
		slog.Bool("redis_url_set", set(c.RedisURL)),
		slog.Bool("storage_connection_string_set", set(c.StorageConnectionString)),
		slog.String("storage_account_url", c.StorageAccountURL),
		slog.String("blob_container", c.BlobContainer),
		slog.Bool("service_bus", c.UsesServiceBus()),
		slog.String("import_queue", c.ImportQueue),
		slog.String("processing_queue", c.ProcessingQueue),
		slog.String("mail_queue", c.MailQueue),
		slog.String("frontend_url", c.FrontendURL.String()),
		slog.Bool("cookie_secure", c.CookieSecure),
		slog.Bool("smtp", c.SMTPHost != ""),
		slog.Bool("google", c.GoogleEnabled()),
		slog.Bool("youtube", c.YouTubeEnabled()),
		slog.Bool("data_encryption_key_previous_set", set(c.DataEncryptionKeyPrevious)),
		slog.Bool("jwt_secret_previous_set", set(c.JWTSecretPrevious)),
		slog.Int64("import_max_bytes", c.ImportMaxBytes),
		slog.Int64("upload_max_bytes", c.UploadMaxBytes),
		slog.Int64("user_storage_quota_bytes", c.UserStorageQuotaBytes),
		slog.Bool("import_allow_private_networks", c.ImportAllowPrivateNetworks),
		slog.Int("clip_max_seconds", c.ClipMaxSeconds),
		slog.Int("clips_in_flight_per_user", c.ClipsInFlightPerUser),
		slog.String("frontend_dir", c.FrontendDir),
		slog.String("shutdown_grace", c.ShutdownGrace.String()),
	)
}

// ImportMaxBytesLimit is the largest IMPORT_MAX_BYTES: an import is staged
// in blocks of 8 MiB (the importer's block size) and a blob holds at most
// 50,000 blocks, so no import can store more.
const ImportMaxBytesLimit = 8 * MiB * 50_000

// keyVaultReferencePrefix starts an App Service Key Vault reference. App
// Service replaces a reference by the secret; when it cannot (no access, a
// wrong name, the vault unreachable) it hands the app the reference itself.
const keyVaultReferencePrefix = "@microsoft.keyvault("

// loader collects problems while reading settings so that Load can report all
// of them at once.
type loader struct {
	getenv   func(string) string
	problems []string
	// unresolved holds the settings whose value is an unresolved Key Vault
	// reference; they read as empty, and are reported once.
	unresolved map[string]bool
}

func (l *loader) fail(name, format string, args ...any) {
	l.problems = append(l.problems, name+": "+fmt.Sprintf(format, args...))
}

// str returns the value of setting name, or def when it is empty. A value
// that is an unresolved Key Vault reference is a problem (the app must not
// run on, say, a JWT secret that is the reference's text) and reads as def.
func (l *loader) str(name, def string) string {
	v := strings.TrimSpace(l.getenv(name))
	if strings.HasPrefix(strings.ToLower(v), keyVaultReferencePrefix) {
		if !l.unresolved[name] {
			if l.unresolved == nil {
				l.unresolved = map[string]bool{}
			}
			l.unresolved[name] = true
			l.fail(name, "is an unresolved Key Vault reference: App Service could not read the secret "+
				"(check the reference and that the app's identity may read the vault's secrets)")
		}
		return def
	}
	if v != "" {
		return v
	}
	return def
}

func (l *loader) required(name string) string {
	v := l.str(name, "")
	if v == "" && !l.unresolved[name] {
		l.fail(name, "is required")
	}
	return v
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, "must be one of %s, got %q", strings.Join(allowed, ", "), v)
	return def
}

func (l *loader) boolean(name string, def bool) bool {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(name, "must be true or false, got %q", v)
		return def
	}
	return b
}

func (l *loader) integer(name string, def, min, max int64) int64 {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		l.fail(name, "must be a whole number, got %q", v)
		return def
	}
	if n < min || n > max {
		l.fail(name, "must be between %d and %d, got %d", min, max, n)
		return def
	}
	return n
}

// duration reads a Go duration ("10s", "1m30s") between min and max.
func (l *loader) duration(name string, def, min, max time.Duration) time.Duration {
	v := l.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		l.fail(name, "must be a duration such as 10s or 1m30s, got %q", v)
		return def
	}
	if d < min || d > max {
		l.fail(name, "must be between %s and %s, got %s", min, max, d)
		return def
	}
	return d
}

func (l *loader) httpURL(name, v string) {
	if v == "" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		l.fail(name, "must be an absolute http(s) URL")
	}
}

// origin parses an origin: scheme://host[:port] with nothing after it.
func origin(v string) (*url.URL, error) {
	u, err := url.Parse(v)
	if err != nil {
		return nil, errors.New("is not a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("must be an http(s) origin such as https://app.example.com")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, errors.New("must be an origin only (no path, query or credentials)")
	}
	u.Path = ""
	return u, nil
}

// LoadDatabaseURL reads only DATABASE_URL, for subcommands such as migrate
// that need nothing else.
func LoadDatabaseURL(getenv func(string) string) (Secret, error) {
	l := &loader{getenv: getenv}
	v := l.required("DATABASE_URL")
	l.postgresURL("DATABASE_URL", v)
	return Secret(v), l.err()
}

func (l *loader) postgresURL(name, v string) {
	if v == "" {
		return
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		l.fail(name, "must be a postgres:// URL")
	}
}

func (l *loader) err() error {
	if len(l.problems) == 0 {
		return nil
	}
	return fmt.Errorf("invalid configuration (%d problems):\n  - %s", len(l.problems), strings.Join(l.problems, "\n  - "))
}

// Load reads every setting through getenv (os.Getenv in production, a map in
// tests), applies defaults and validates. The error lists every problem
// found, one per line, and never contains a secret value.
func Load(getenv func(string) string) (*Config, error) {
	l := &loader{getenv: getenv}
	c := &Config{}

	c.Port = int(l.integer("FUNCTIONS_CUSTOMHANDLER_PORT", 7071, 0, 65535))
	switch lvl := strings.ToLower(l.str("LOG_LEVEL", "info")); lvl {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn", "warning":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		l.fail("LOG_LEVEL", "must be debug, info, warn or error, got %q", lvl)
	}

	c.DatabaseURL = Secret(l.required("DATABASE_URL"))
	l.postgresURL("DATABASE_URL", c.DatabaseURL.Reveal())
	c.MigrateOnStart = l.boolean("MIGRATE_ON_START", false)
	c.DatabaseAuth = l.oneOf("DATABASE_AUTH", "password", "password", "entra")
	c.RedisURL = Secret(l.required("REDIS_URL"))
	c.RedisAuth = l.oneOf("REDIS_AUTH", "password", "password", "entra")
	c.RedisPrefix = l.str("REDIS_KEY_PREFIX", "videofn:")
	if v := c.RedisURL.Reveal(); v != "" {
		if u, err := url.Parse(v); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			l.fail("REDIS_URL", "must be a redis:// or rediss:// URL")
		}
	}

	c.StorageConnectionString = Secret(l.str("AZURE_STORAGE_CONNECTION_STRING", ""))
	c.StorageAccountURL = l.str("AZURE_STORAGE_ACCOUNT_URL", "")
	switch {
	case c.StorageConnectionString == "" && c.StorageAccountURL == "":
		l.fail("AZURE_STORAGE_CONNECTION_STRING", "or AZURE_STORAGE_ACCOUNT_URL is required")
	case c.StorageConnectionString != "" && c.StorageAccountURL != "":
		l.fail("AZURE_STORAGE_CONNECTION_STRING", "and AZURE_STORAGE_ACCOUNT_URL are both set; set exactly one")
	}
	l.httpURL("AZURE_STORAGE_ACCOUNT_URL", c.StorageAccountURL)
	if c.StorageConnectionString != "" && !strings.Contains(strings.ToLower(c.StorageConnectionString.Reveal()), "accountkey=") {
		l.fail("AZURE_STORAGE_CONNECTION_STRING", "must contain AccountKey= (SAS signing needs the key); use AZURE_STORAGE_ACCOUNT_URL for identity-based access")
	}
	c.BlobContainer = l.str("BLOB_CONTAINER", "videos")
	if !validContainerName(c.BlobContainer) {
		l.fail("BLOB_CONTAINER", "must be 3-63 lowercase letters, digits or single hyphens, got %q", c.BlobContainer)
	}

	c.ServiceBusConnectionString = Secret(l.str("ServiceBusConnection", ""))
	c.ServiceBusNamespace = l.str("ServiceBusConnection__fullyQualifiedNamespace", "")
	if c.ServiceBusConnectionString != "" && c.ServiceBusNamespace != "" {
		l.fail("ServiceBusConnection", "and ServiceBusConnection__fullyQualifiedNamespace are both set; set exactly one")
	}
	if ns := c.ServiceBusNamespace; ns != "" && (strings.Contains(ns, "://") || strings.Contains(ns, "/")) {
		l.fail("ServiceBusConnection__fullyQualifiedNamespace", "must be a host name such as myns.servicebus.windows.net")
	}
	c.ImportQueue = l.str("IMPORT_QUEUE", "imports")
	c.ProcessingQueue = l.str("PROCESSING_QUEUE", "video-processing")
	if c.ImportQueue == c.ProcessingQueue {
		l.fail("PROCESSING_QUEUE", "must differ from IMPORT_QUEUE")
	}
	c.MailQueue = l.str("MAIL_QUEUE", "mail")
	if c.MailQueue == c.ImportQueue || c.MailQueue == c.ProcessingQueue {
		l.fail("MAIL_QUEUE", "must differ from IMPORT_QUEUE and PROCESSING_QUEUE")
	}
	c.PublishQueue = l.str("PUBLISH_QUEUE", "publish")
	if c.PublishQueue == c.ImportQueue || c.PublishQueue == c.ProcessingQueue || c.PublishQueue == c.MailQueue {
		l.fail("PUBLISH_QUEUE", "must differ from IMPORT_QUEUE, PROCESSING_QUEUE and MAIL_QUEUE")
	}
	c.PublishChunkBytes = l.integer("PUBLISH_CHUNK_BYTES", 8<<20, 256<<10, 64<<20)
	if c.PublishChunkBytes%(256<<10) != 0 {
		l.fail("PUBLISH_CHUNK_BYTES", "must be a multiple of 262144 (256 KiB)")
	}

	c.JWTSecret = Secret(l.required("JWT_SECRET"))
	if n := len(c.JWTSecret); n > 0 && n < 32 {
		l.fail("JWT_SECRET", "must be at least 32 bytes, got %d", n)
	}
	c.JWTSecretPrevious = Secret(l.str("JWT_SECRET_PREVIOUS", ""))
	if n := len(c.JWTSecretPrevious); n > 0 && n < 32 {
		l.fail("JWT_SECRET_PREVIOUS", "must be at least 32 bytes, got %d", n)
	}
	c.DataEncryptionKey = Secret(l.required("DATA_ENCRYPTION_KEY"))
	if v := c.DataEncryptionKey.Reveal(); v != "" {
		if key, err := base64.StdEncoding.DecodeString(v); err != nil || len(key) != 32 {
			l.fail("DATA_ENCRYPTION_KEY", "must be the standard base64 encoding of exactly 32 random bytes (openssl rand -base64 32)")
		}
	}
	c.DataEncryptionKeyPrevious = Secret(l.str("DATA_ENCRYPTION_KEY_PREVIOUS", ""))
	if v := c.DataEncryptionKeyPrevious.Reveal(); v != "" {
		if key, err := base64.StdEncoding.DecodeString(v); err != nil || len(key) != 32 {
			l.fail("DATA_ENCRYPTION_KEY_PREVIOUS", "must be the standard base64 encoding of exactly 32 random bytes (the previous DATA_ENCRYPTION_KEY)")
		}
	}
	c.BcryptCost = int(l.integer("BCRYPT_COST", 12, 4, 16))

	if v := l.required("FRONTEND_URL"); v != "" {
		u, err := origin(v)
		if err != nil {
			l.fail("FRONTEND_URL", "%v", err)
		}
		c.FrontendURL = u
	}
	if c.FrontendURL == nil {
		c.FrontendURL = &url.URL{}
	}
	for _, o := range strings.Split(l.str("ALLOWED_ORIGINS", ""), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		if o == "*" {
			l.fail("ALLOWED_ORIGINS", "must list exact origins; * is not allowed with credentials")
			continue
		}
		u, err := origin(o)
		if err != nil {
			l.fail("ALLOWED_ORIGINS", "%q %v", o, err)
			continue
		}
		c.AllowedOrigins = append(c.AllowedOrigins, u.String())
	}
	c.CookieSecure = l.boolean("COOKIE_SECURE", true)
	c.TrustedProxyHops = int(l.integer("TRUSTED_PROXY_HOPS", 1, 0, 10))
	if c.CookieSecure && c.FrontendURL.Scheme == "http" && c.FrontendURL.Hostname() != "localhost" && c.FrontendURL.Hostname() != "127.0.0.1" {
		l.fail("FRONTEND_URL", "must be https when COOKIE_SECURE is true (except on localhost)")
	}

	c.SMTPHost = l.str("SMTP_HOST", "")
	c.SMTPPort = int(l.integer("SMTP_PORT", 587, 1, 65535))
	c.SMTPUsername = l.str("SMTP_USERNAME", "")
	c.SMTPPassword = Secret(l.str("SMTP_PASSWORD", ""))
	c.SMTPFrom = l.str("SMTP_FROM", "")
	if c.SMTPHost != "" && c.SMTPFrom == "" {
		l.fail("SMTP_FROM", "is required when SMTP_HOST is set")
	}
	if (c.SMTPUsername == "") != (c.SMTPPassword == "") {
		l.fail("SMTP_USERNAME", "and SMTP_PASSWORD must be set together")
	}

	c.GoogleClientID = l.str("GOOGLE_CLIENT_ID", "")
	c.GoogleClientSecret = Secret(l.str("GOOGLE_CLIENT_SECRET", ""))
	c.GoogleRedirectURL = l.str("GOOGLE_REDIRECT_URL", "")
	if c.GoogleClientID != "" || c.GoogleClientSecret != "" || c.GoogleRedirectURL != "" {
		for name, v := range map[string]string{
			"GOOGLE_CLIENT_ID":     c.GoogleClientID,
			"GOOGLE_CLIENT_SECRET": c.GoogleClientSecret.Reveal(),
			"GOOGLE_REDIRECT_URL":  c.GoogleRedirectURL,
		} {
			if v == "" {
				l.fail(name, "is required when Google sign-in is configured (GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET and GOOGLE_REDIRECT_URL go together)")
			}
		}
	}
	l.httpURL("GOOGLE_REDIRECT_URL", c.GoogleRedirectURL)
	c.GoogleAuthURL = l.str("GOOGLE_AUTH_URL", "https://accounts.google.com/o/oauth2/v2/auth")
	c.GoogleTokenURL = l.str("GOOGLE_TOKEN_URL", "https://oauth2.googleapis.com/token")
	c.GoogleUserinfoURL = l.str("GOOGLE_USERINFO_URL", "https://openidconnect.googleapis.com/v1/userinfo")
	l.httpURL("GOOGLE_AUTH_URL", c.GoogleAuthURL)
	l.httpURL("GOOGLE_TOKEN_URL", c.GoogleTokenURL)
	l.httpURL("GOOGLE_USERINFO_URL", c.GoogleUserinfoURL)

	c.YouTubeClientID = l.str("YOUTUBE_CLIENT_ID", "")
	c.YouTubeClientSecret = Secret(l.str("YOUTUBE_CLIENT_SECRET", ""))
	if (c.YouTubeClientID == "") != (c.YouTubeClientSecret == "") {
		l.fail("YOUTUBE_CLIENT_ID", "and YOUTUBE_CLIENT_SECRET must be set together")
	}
	c.YouTubeRedirectURL = l.str("YOUTUBE_REDIRECT_URL", strings.TrimRight(c.FrontendURL.String(), "/")+"/api/social-accounts/youtube/callback")
	c.YouTubeAuthURL = l.str("YOUTUBE_AUTH_URL", "https://accounts.google.com/o/oauth2/v2/auth")
	c.YouTubeTokenURL = l.str("YOUTUBE_TOKEN_URL", "https://oauth2.googleapis.com/token")
	c.YouTubeRevokeURL = l.str("YOUTUBE_REVOKE_URL", "https://oauth2.googleapis.com/revoke")
	c.YouTubeAPIURL = l.str("YOUTUBE_API_URL", "https://www.googleapis.com/youtube/v3")
	c.YouTubeUploadURL = l.str("YOUTUBE_UPLOAD_URL", "https://www.googleapis.com/upload/youtube/v3/videos")
	if c.YouTubeEnabled() {
		l.httpURL("YOUTUBE_REDIRECT_URL", c.YouTubeRedirectURL)
	}
	l.httpURL("YOUTUBE_AUTH_URL", c.YouTubeAuthURL)
	l.httpURL("YOUTUBE_TOKEN_URL", c.YouTubeTokenURL)
	l.httpURL("YOUTUBE_REVOKE_URL", c.YouTubeRevokeURL)
	l.httpURL("YOUTUBE_API_URL", c.YouTubeAPIURL)
	l.httpURL("YOUTUBE_UPLOAD_URL", c.YouTubeUploadURL)

	c.YTDLPPath = l.str("YTDLP_PATH", "yt-dlp")
	c.FFmpegPath = l.str("FFMPEG_PATH", "ffmpeg")
	c.FFprobePath = l.str("FFPROBE_PATH", "ffprobe")
	c.ImportMaxBytes = l.integer("IMPORT_MAX_BYTES", 2*GiB, 1, 1<<50)
	if c.ImportMaxBytes > ImportMaxBytesLimit {
		l.fail("IMPORT_MAX_BYTES", "must be at most %d (8 MiB blocks x the 50,000 blocks a blob can hold), got %d", ImportMaxBytesLimit, c.ImportMaxBytes)
	}
	c.UploadMaxBytes = l.integer("UPLOAD_MAX_BYTES", 5*GiB, 1, 1<<50)
	c.UserStorageQuotaBytes = l.integer("USER_STORAGE_QUOTA_BYTES", 20*GiB, 1, 1<<50)
	c.ImportAllowPrivateNetworks = l.boolean("IMPORT_ALLOW_PRIVATE_NETWORKS", false)
	c.ImportMaxActivePerUser = int(l.integer("IMPORT_MAX_ACTIVE_PER_USER", 3, 1, 100))
	c.ShutdownGrace = l.duration("SHUTDOWN_GRACE", 10*time.Second, 0, 5*time.Minute)
	c.FrontendDir = l.str("FRONTEND_DIR", "")
	c.ClipMaxSeconds = int(l.integer("CLIP_MAX_SECONDS", 180, 1, 3600))
	c.ClipsInFlightPerUser = int(l.integer("CLIPS_IN_FLIGHT_PER_USER", 3, 1, 100))

	if err := l.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// validContainerName applies Blob Storage's container naming rules.
func validContainerName(s string) bool {
	if len(s) < 3 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' || strings.Contains(s, "--") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}
