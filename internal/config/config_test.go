package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// hostOnly are settings read by the Functions host, not by the handler.
var hostOnly = map[string]bool{"FUNCTIONS_WORKER_RUNTIME": true, "AzureWebJobsStorage": true}

func sampleValues(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../../local.settings.sample.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		IsEncrypted bool
		Values      map[string]string
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("local.settings.sample.json: %v", err)
	}
	return f.Values
}

func getenvFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// TestSampleSettingsAreCompleteAndValid keeps local.settings.sample.json in
// step with Load: the sample loads cleanly, and it names exactly the settings
// that Load reads (plus the host's own).
func TestSampleSettingsAreCompleteAndValid(t *testing.T) {
	values := sampleValues(t)
	read := map[string]bool{}
	getenv := func(k string) string { read[k] = true; return values[k] }
	if _, err := Load(getenv); err != nil {
		t.Fatalf("sample settings do not load: %v", err)
	}
	var missing, unknown []string
	for k := range read {
		if _, ok := values[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range values {
		if !read[k] && !hostOnly[k] {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(unknown)
	if len(missing) > 0 {
		t.Errorf("settings read by Load but missing from local.settings.sample.json: %v", missing)
	}
	if len(unknown) > 0 {
		t.Errorf("settings in local.settings.sample.json that Load never reads: %v", unknown)
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Load(getenvFrom(map[string]string{
		"JWT_SECRET":      "short-secret-value",
		"COOKIE_SECURE":   "maybe",
		"ALLOWED_ORIGINS": "*, https://ok.example.com, ftp://x",
		"SMTP_HOST":       "smtp.example.com",
		"BLOB_CONTAINER":  "Bad_Name",
	}))
	if err == nil {
		t.Fatal("Load succeeded with an empty environment")
	}
	msg := err.Error()
	for _, want := range []string{
		"DATABASE_URL: is required",
		"REDIS_URL: is required",
		"AZURE_STORAGE_CONNECTION_STRING: or AZURE_STORAGE_ACCOUNT_URL is required",
		"JWT_SECRET: must be at least 32 bytes",
		"DATA_ENCRYPTION_KEY: is required",
		"FRONTEND_URL: is required",
		"COOKIE_SECURE: must be true or false",
		"ALLOWED_ORIGINS: must list exact origins",
		`ALLOWED_ORIGINS: "ftp://x"`,
		"SMTP_FROM: is required when SMTP_HOST is set",
		"BLOB_CONTAINER: must be 3-63",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
}

func TestLoadValidation(t *testing.T) {
	tests := []struct {
		name    string
		change  map[string]string
		wantErr string // empty: must load
	}{
		{"sample as is", nil, ""},
		{"storage by identity", map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "", "AZURE_STORAGE_ACCOUNT_URL": "https://acct.blob.core.windows.net"}, ""},
		{"both storage settings", map[string]string{"AZURE_STORAGE_ACCOUNT_URL": "https://acct.blob.core.windows.net"}, "set exactly one"},
		{"connection string without key", map[string]string{"AZURE_STORAGE_CONNECTION_STRING": "BlobEndpoint=http://x/y;SharedAccessSignature=sv=1"}, "must contain AccountKey="},
		{"both service bus settings", map[string]string{"ServiceBusConnection": "Endpoint=sb://x/", "ServiceBusConnection__fullyQualifiedNamespace": "x.servicebus.windows.net"}, "set exactly one"},
		{"namespace given as URL", map[string]string{"ServiceBusConnection__fullyQualifiedNamespace": "sb://x.servicebus.windows.net/"}, "must be a host name"},
		{"same queue twice", map[string]string{"PROCESSING_QUEUE": "imports"}, "must differ from IMPORT_QUEUE"},
		{"mail on the imports queue", map[string]string{"MAIL_QUEUE": "imports"}, "must differ from IMPORT_QUEUE and PROCESSING_QUEUE"},
		{"publish on the mail queue", map[string]string{"PUBLISH_QUEUE": "mail"}, "must differ from IMPORT_QUEUE, PROCESSING_QUEUE and MAIL_QUEUE"},
		{"publish chunk not a multiple of 256 KiB", map[string]string{"PUBLISH_CHUNK_BYTES": "300000"}, "multiple of 262144"},
		{"frontend with path", map[string]string{"FRONTEND_URL": "https://app.example.com/app"}, "origin only"},
		{"plain http frontend with secure cookies", map[string]string{"FRONTEND_URL": "http://app.example.com", "COOKIE_SECURE": "true"}, "must be https"},
		{"encryption key too short", map[string]string{"DATA_ENCRYPTION_KEY": "c2hvcnQ="}, "exactly 32 random bytes"},
		{"bcrypt cost out of range", map[string]string{"BCRYPT_COST": "40"}, "between 4 and 16"},
		{"half of google", map[string]string{"GOOGLE_CLIENT_ID": "id"}, "GOOGLE_CLIENT_SECRET: is required when Google"},
		{"half of youtube", map[string]string{"YOUTUBE_CLIENT_ID": "id"}, "YOUTUBE_CLIENT_ID: and YOUTUBE_CLIENT_SECRET must be set together"},
		{"youtube", map[string]string{"YOUTUBE_CLIENT_ID": "id", "YOUTUBE_CLIENT_SECRET": "secret"}, ""},
		{"youtube endpoint not a URL", map[string]string{"YOUTUBE_TOKEN_URL": "localhost:1/token"}, "YOUTUBE_TOKEN_URL: must be an absolute http(s) URL"},
		{"previous encryption key too short", map[string]string{"DATA_ENCRYPTION_KEY_PREVIOUS": "c2hvcnQ="}, "DATA_ENCRYPTION_KEY_PREVIOUS: must be the standard base64 encoding of exactly 32"},
		{"previous encryption key", map[string]string{"DATA_ENCRYPTION_KEY_PREVIOUS": "b2xkLWRldmVsb3BtZW50LW9ubHkta2V5LTMyYnl0ZXM="}, ""},
		{"database URL of another kind", map[string]string{"DATABASE_URL": "mysql://x"}, "must be a postgres:// URL"},
		{"port not a number", map[string]string{"FUNCTIONS_CUSTOMHANDLER_PORT": "http"}, "must be a whole number"},
		{"unknown log level", map[string]string{"LOG_LEVEL": "verbose"}, "LOG_LEVEL"},
		{"storage quota not a number", map[string]string{"USER_STORAGE_QUOTA_BYTES": "20GiB"}, "USER_STORAGE_QUOTA_BYTES: must be a whole number"},
		{"storage quota zero", map[string]string{"USER_STORAGE_QUOTA_BYTES": "0"}, "USER_STORAGE_QUOTA_BYTES: must be between 1 and"},
		{"shutdown grace without unit", map[string]string{"SHUTDOWN_GRACE": "10"}, "SHUTDOWN_GRACE: must be a duration"},
		{"shutdown grace too long", map[string]string{"SHUTDOWN_GRACE": "10m"}, "SHUTDOWN_GRACE: must be between 0s and 5m0s"},
		{"shutdown grace zero", map[string]string{"SHUTDOWN_GRACE": "0s"}, ""},
		{"import cap at what a blob holds", map[string]string{"IMPORT_MAX_BYTES": "419430400000"}, ""},
		{"import cap above what a blob holds", map[string]string{"IMPORT_MAX_BYTES": "419430400001"}, "IMPORT_MAX_BYTES: must be at most 419430400000 (8 MiB blocks x the 50,000 blocks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			values := sampleValues(t)
			for k, v := range tt.change {
				values[k] = v
			}
			cfg, err := Load(getenvFrom(values))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if cfg == nil {
					t.Fatal("nil config")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestUnresolvedKeyVaultReferenceIsRefused: App Service passes the text of
// a Key Vault reference it could not resolve as the setting's value. Load
// must refuse it, naming the setting, whatever the setting (a JWT secret
// would otherwise pass its length check) and without printing the value.
func TestUnresolvedKeyVaultReferenceIsRefused(t *testing.T) {
	refs := []string{
		"@Microsoft.KeyVault(SecretUri=https://vault-x.vault.azure.net/secrets/jwt-secret/)",
		"@Microsoft.KeyVault(VaultName=vault-x;SecretName=jwt-secret)",
		"  @microsoft.keyvault(SecretUri=https://vault-x.vault.azure.net/secrets/jwt-secret/) ",
		"@MICROSOFT.KEYVAULT(VaultName=vault-x;SecretName=jwt-secret)",
	}
	settings := []string{"JWT_SECRET", "DATABASE_URL", "DATA_ENCRYPTION_KEY", "DATA_ENCRYPTION_KEY_PREVIOUS", "REDIS_URL", "SMTP_PASSWORD", "GOOGLE_CLIENT_SECRET", "YOUTUBE_CLIENT_SECRET", "AZURE_STORAGE_CONNECTION_STRING", "ServiceBusConnection", "FRONTEND_URL"}
	for _, name := range settings {
		for i, ref := range refs {
			t.Run(fmt.Sprintf("%s/%d", name, i), func(t *testing.T) {
				values := sampleValues(t)
				values[name] = ref
				_, err := Load(getenvFrom(values))
				if err == nil {
					t.Fatalf("Load accepted %s = %q", name, ref)
				}
				want := name + ": is an unresolved Key Vault reference"
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not contain %q:\n%v", want, err)
				}
				if strings.Contains(err.Error(), "vault-x") {
					t.Errorf("error quotes the reference:\n%v", err)
				}
				if strings.Contains(err.Error(), name+": is required") {
					t.Errorf("the reference is reported twice:\n%v", err)
				}
			})
		}
	}
	t.Run("LoadDatabaseURL", func(t *testing.T) {
		_, err := LoadDatabaseURL(getenvFrom(map[string]string{"DATABASE_URL": refs[0]}))
		if err == nil || !strings.Contains(err.Error(), "DATABASE_URL: is an unresolved Key Vault reference") {
			t.Errorf("got %v, want the reference refused", err)
		}
	})
	t.Run("a value that merely mentions Key Vault", func(t *testing.T) {
		values := sampleValues(t)
		values["JWT_SECRET"] = "not-a-reference-@Microsoft.KeyVault(-just-text-0123456789"
		if _, err := Load(getenvFrom(values)); err != nil {
			t.Errorf("Load: %v", err)
		}
	})
}

func TestDefaults(t *testing.T) {
	values := map[string]string{
		"DATABASE_URL":                    "postgres://u:p@db/x",
		"REDIS_URL":                       "redis://r:6379/0",
		"AZURE_STORAGE_CONNECTION_STRING": "AccountName=a;AccountKey=a2V5;BlobEndpoint=http://b/a",
		"JWT_SECRET":                      strings.Repeat("k", 32),
		"DATA_ENCRYPTION_KEY":             "bG9jYWwtZGV2ZWxvcG1lbnQtb25seS1rZXktMzJieXQ=",
		"FRONTEND_URL":                    "https://app.example.com",
	}
	cfg, err := Load(getenvFrom(values))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"port", cfg.Port, 7071},
		{"container", cfg.BlobContainer, "videos"},
		{"import queue", cfg.ImportQueue, "imports"},
		{"processing queue", cfg.ProcessingQueue, "video-processing"},
		{"mail queue", cfg.MailQueue, "mail"},
		{"cookie secure", cfg.CookieSecure, true},
		{"service bus", cfg.UsesServiceBus(), false},
		{"bcrypt cost", cfg.BcryptCost, 12},
		{"upload cap", cfg.UploadMaxBytes, 5 * GiB},
		{"storage quota", cfg.UserStorageQuotaBytes, 20 * GiB},
		{"ytdlp", cfg.YTDLPPath, "yt-dlp"},
		{"ffmpeg", cfg.FFmpegPath, "ffmpeg"},
		{"ffprobe", cfg.FFprobePath, "ffprobe"},
		{"private networks", cfg.ImportAllowPrivateNetworks, false},
		{"shutdown grace", cfg.ShutdownGrace, 10 * time.Second},
		{"frontend dir", cfg.FrontendDir, ""},
		{"google auth url", cfg.GoogleAuthURL, "https://accounts.google.com/o/oauth2/v2/auth"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestSecretsNeverPrinted covers every way a secret could leak: fmt verbs,
// slog attributes (text and JSON) and the whole-config log value.
func TestSecretsNeverPrinted(t *testing.T) {
	values := sampleValues(t)
	values["DATABASE_URL"] = "postgres://app:hunter2-db@db.example.com/x"
	values["SMTP_HOST"] = "smtp.example.com"
	values["SMTP_FROM"] = "noreply@example.com"
	values["SMTP_USERNAME"] = "mailer"
	values["SMTP_PASSWORD"] = "hunter2-smtp"
	values["YOUTUBE_CLIENT_ID"] = "yt-client"
	values["YOUTUBE_CLIENT_SECRET"] = "hunter2-youtube"
	values["DATA_ENCRYPTION_KEY_PREVIOUS"] = "b2xkLWRldmVsb3BtZW50LW9ubHkta2V5LTMyYnl0ZXM="
	cfg, err := Load(getenvFrom(values))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("config", "config", cfg, "jwt", cfg.JWTSecret, "db", cfg.DatabaseURL)
	fmt.Fprintf(&buf, "%v %+v %#v %s", cfg, cfg, cfg, cfg.SMTPPassword)
	out := buf.String()
	for _, secret := range []string{"hunter2-db", "hunter2-smtp", "hunter2-youtube", values["JWT_SECRET"], values["DATA_ENCRYPTION_KEY"], values["DATA_ENCRYPTION_KEY_PREVIOUS"], "Eby8vdM02x"} {
		if strings.Contains(out, secret) {
			t.Errorf("output contains secret %q:\n%s", secret, out)
		}
	}
	if cfg.DatabaseURL.Reveal() != values["DATABASE_URL"] {
		t.Error("Reveal does not return the value")
	}
}

func TestLoadErrorNeverContainsSecrets(t *testing.T) {
	_, err := Load(getenvFrom(map[string]string{
		"JWT_SECRET":          "too-short-but-secret",
		"DATA_ENCRYPTION_KEY": "not base64 secret!",
		"DATABASE_URL":        "mysql://user:pw-secret@x",
	}))
	if err == nil {
		t.Fatal("want error")
	}
	for _, s := range []string{"too-short-but-secret", "not base64 secret!", "pw-secret"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error contains %q: %v", s, err)
		}
	}
}
