package blob_test

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/videofn/videofn/internal/blob"
	"github.com/videofn/videofn/internal/testenv"
)

func TestNewValidatesOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    blob.Options
		wantErr string
		shared  bool
	}{
		{"connection string", blob.Options{ConnectionString: testenv.AzuriteConnectionString, Container: "videos"}, "", true},
		{"account URL with a credential", blob.Options{AccountURL: "https://acct.blob.core.windows.net", Credential: fakeCredential{}, Container: "videos"}, "", false},
		{"both", blob.Options{ConnectionString: testenv.AzuriteConnectionString, AccountURL: "https://acct.blob.core.windows.net", Container: "videos"}, "not both", false},
		{"neither", blob.Options{Container: "videos"}, "is required", false},
		{"connection string without key", blob.Options{ConnectionString: "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;AccountName=devstoreaccount1", Container: "videos"}, "AccountKey", false},
		{"key not base64", blob.Options{ConnectionString: "BlobEndpoint=http://127.0.0.1:10000/x;AccountName=x;AccountKey=not*base64", Container: "videos"}, "not valid base64", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := blob.New(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "not*base64") {
					t.Errorf("error echoes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (s.SharedKey() != nil) != tt.shared {
				t.Errorf("shared key present = %v, want %v", s.SharedKey() != nil, tt.shared)
			}
			if s.ContainerName() != "videos" {
				t.Errorf("container %q", s.ContainerName())
			}
		})
	}
}

type fakeCredential struct{}

func (fakeCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{}, nil
}

func TestPingAndEnsureContainerAgainstAzurite(t *testing.T) {
	ctx := context.Background()
	s, err := blob.New(blob.Options{ConnectionString: testenv.Storage(t), Container: testenv.ContainerName()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Container().Delete(context.Background(), nil) })
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Ping before the container exists: %v", err)
	}
	for i := range 2 { // idempotent
		if err := s.EnsureContainer(ctx); err != nil {
			t.Fatalf("EnsureContainer #%d: %v", i+1, err)
		}
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func TestPingFailsWhenStorageIsUnreachable(t *testing.T) {
	cs := strings.Replace(testenv.AzuriteConnectionString, "127.0.0.1:10000", "127.0.0.1:1", 1)
	s, err := blob.New(blob.Options{ConnectionString: cs, Container: "videos"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3e9)
	defer cancel()
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded against a closed port")
	}
}
