package blob

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	sdkblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/videofn/videofn/internal/media"
)

// Lifetimes of the SAS a Signer issues.
const (
	// MaxUploadLifetime caps upload (create+write) SAS.
	MaxUploadLifetime = 15 * time.Minute
	// MaxReadLifetime caps read SAS.
	MaxReadLifetime = time.Hour
	// DefaultKeyLifetime is how long a user delegation key is requested for.
	DefaultKeyLifetime = 2 * time.Hour
	// clockSkew backdates the start of every SAS and key, so that storage
	// accepts them at once even when its clock is a little ahead of ours.
	clockSkew = 5 * time.Minute
	// keyRenewMargin: a cached delegation key is renewed when it would
	// expire less than this after the SAS being signed.
	keyRenewMargin = 5 * time.Minute
)

// Signer issues SAS URLs that each grant one permission set on one blob of
// one container. With a connection string it signs with the account key;
// with Entra ID it signs with a user delegation key, which it caches and
// renews before it expires. A Signer is safe for concurrent use.
type Signer struct {
	container    string // name
	containerURL string // without trailing slash
	protocol     sas.Protocol
	now          func() time.Time

	sharedKey *azblob.SharedKeyCredential // nil with delegation
	keys      *delegationKeys             // nil with a shared key
}

var _ media.Signer = (*Signer)(nil)

// SignerOptions tune a Signer; the zero value is fine.
type SignerOptions struct {
	Now         func() time.Time // default time.Now
	KeyLifetime time.Duration    // user delegation keys; default DefaultKeyLifetime, at most 7 days
}

// DelegationKeySource obtains user delegation keys. *service.Client
// implements it (its GetUserDelegationCredential needs an Entra ID
// credential with a role that may delegate, such as Storage Blob Data
// Contributor).
type DelegationKeySource interface {
	GetUserDelegationCredential(ctx context.Context, info service.KeyInfo, o *service.GetUserDelegationCredentialOptions) (*service.UserDelegationCredential, error)
}

// NewSigner returns the Signer that fits the store: shared key when it was
// built from a connection string, user delegation otherwise.
func NewSigner(s *Store, opts SignerOptions) (*Signer, error) {
	if key := s.SharedKey(); key != nil {
		return NewSharedKeySigner(key, s.Container().URL(), opts)
	}
	return NewDelegationSigner(s.Service(), s.Container().URL(), opts)
}

// NewSharedKeySigner returns a Signer for the container at containerURL
// that signs with the account key.
func NewSharedKeySigner(key *azblob.SharedKeyCredential, containerURL string, opts SignerOptions) (*Signer, error) {
	s, err := newSigner(containerURL, opts)
	if err != nil {
		return nil, err
	}
	s.sharedKey = key
	return s, nil
}

// NewDelegationSigner returns a Signer for the container at containerURL
// that signs with user delegation keys from keys. The URL must name the
// account in its host (https://<account>.blob.core.windows.net/<container>):
// the SDK takes the account name that goes into the signature from the
// first label of the host, so a path-style URL (Azurite's
// http://127.0.0.1:10000/<account>/<container>) would yield SAS that
// storage refuses. Use a connection string with Azurite.
func NewDelegationSigner(keys DelegationKeySource, containerURL string, opts SignerOptions) (*Signer, error) {
	u, err := url.Parse(containerURL)
	if err != nil {
		return nil, fmt.Errorf("blob: %q is not a container URL", containerURL)
	}
	host := u.Hostname()
	account, _, _ := strings.Cut(host, ".")
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") || !accountName.MatchString(account) {
		return nil, fmt.Errorf("blob: user-delegation SAS needs an account URL of the form https://<account>.blob.core.windows.net, not %q; with Azurite use a connection string", u.Scheme+"://"+u.Host)
	}
	s, err := newSigner(containerURL, opts)
	if err != nil {
		return nil, err
	}
	lifetime := opts.KeyLifetime
	if lifetime <= 0 {
		lifetime = DefaultKeyLifetime
	}
	if lifetime > 7*24*time.Hour {
		return nil, errors.New("blob: a user delegation key lives at most 7 days")
	}
	s.keys = &delegationKeys{source: keys, lifetime: lifetime, now: s.now, fetching: make(chan struct{}, 1)}
	return s, nil
}

// accountName is Azure's storage account naming rule.
var accountName = regexp.MustCompile(`^[a-z0-9]{3,24}$`)

func newSigner(containerURL string, opts SignerOptions) (*Signer, error) {
	containerURL = strings.TrimSuffix(containerURL, "/")
	parts, err := sas.ParseURL(containerURL)
	if err != nil || parts.ContainerName == "" || parts.BlobName != "" {
		return nil, fmt.Errorf("blob: %q is not a container URL", containerURL)
	}
	s := &Signer{container: parts.ContainerName, containerURL: containerURL, now: opts.Now}
	switch parts.Scheme {
	case "https":
		s.protocol = sas.ProtocolHTTPS
	case "http":
		// Only the local emulator is reached over plain http.
		s.protocol = sas.ProtocolHTTPSandHTTP
	default:
		return nil, fmt.Errorf("blob: container URL scheme %q is not http(s)", parts.Scheme)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// UploadURL returns a URL that allows creating and writing the blob
// (Put Blob, Put Block, Put Block List) until expiry, at most
// MaxUploadLifetime from now, and nothing else: no read, no list, no
// delete, no other blob, no snapshot of the blob.
func (s *Signer) UploadURL(ctx context.Context, name string, expiry time.Time) (string, error) {
	perms := sas.BlobPermissions{Create: true, Write: true}
	return s.sign(ctx, name, "", perms.String(), "", expiry, MaxUploadLifetime)
}

// ReadURL returns a URL that allows reading the blob's snapshot (signed
// resource "bs": that snapshot only, not the base blob nor another
// snapshot), or the base blob when snapshot is "", until expiry, at most
// MaxReadLifetime from now. Storage serves it with contentType whatever
// type the uploader set, so a blob can never be served as, say, HTML.
func (s *Signer) ReadURL(ctx context.Context, name, snapshot, contentType string, expiry time.Time) (string, error) {
	perms := sas.BlobPermissions{Read: true}
	return s.sign(ctx, name, snapshot, perms.String(), contentType, expiry, MaxReadLifetime)
}

func (s *Signer) sign(ctx context.Context, name, snapshot, perms, contentType string, expiry time.Time, maxLifetime time.Duration) (string, error) {
	if name == "" {
		return "", errors.New("blob: sign: empty blob name")
	}
	now := s.now().UTC()
	if expiry.After(now.Add(maxLifetime)) {
		return "", fmt.Errorf("blob: sign: expiry %s is more than %s away", expiry.Format(time.RFC3339), maxLifetime)
	}
	v := sas.BlobSignatureValues{
		Protocol:      s.protocol,
		StartTime:     now.Add(-clockSkew),
		ExpiryTime:    expiry.UTC(),
		Permissions:   perms,
		ContainerName: s.container,
		BlobName:      name,
		ContentType:   contentType,
	}
	if snapshot != "" {
		// The SDK signs the snapshot time in storage's own format; an id
		// that does not survive the round trip would yield a SAS storage
		// refuses.
		t, err := time.Parse(sdkblob.SnapshotTimeFormat, snapshot)
		if err != nil || t.Format(sdkblob.SnapshotTimeFormat) != snapshot {
			return "", fmt.Errorf("blob: sign: %q is not a snapshot id", snapshot)
		}
		v.SnapshotTime = t
	}
	var qp sas.QueryParameters
	var err error
	if s.sharedKey != nil {
		qp, err = v.SignWithSharedKey(s.sharedKey)
	} else {
		var cred *service.UserDelegationCredential
		if cred, err = s.keys.get(ctx, v.StartTime, v.ExpiryTime); err != nil {
			return "", err
		}
		qp, err = v.SignWithUserDelegation(cred)
	}
	if err != nil {
		return "", fmt.Errorf("blob: sign: %w", err)
	}
	query := qp.Encode()
	if snapshot != "" {
		query = "snapshot=" + url.QueryEscape(snapshot) + "&" + query
	}
	return s.blobURL(name) + "?" + query, nil
}

// blobURL escapes each segment of name, keeping the slashes.
func (s *Signer) blobURL(name string) string {
	segments := strings.Split(name, "/")
	for i, seg := range segments {
		segments[i] = url.PathEscape(seg)
	}
	return s.containerURL + "/" + strings.Join(segments, "/")
}

// delegationKeys caches one user delegation key. Concurrent callers that
// need a new key wait for a single fetch.
type delegationKeys struct {
	source   DelegationKeySource
	lifetime time.Duration
	now      func() time.Time
	fetching chan struct{} // a token held by the one caller fetching

	mu     sync.Mutex
	cred   *service.UserDelegationCredential
	start  time.Time
	expiry time.Time
}

// get returns a key valid over [from, until + keyRenewMargin], fetching one
// when the cached key does not cover it.
func (k *delegationKeys) get(ctx context.Context, from, until time.Time) (*service.UserDelegationCredential, error) {
	if cred := k.cached(from, until); cred != nil {
		return cred, nil
	}
	select {
	case k.fetching <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("blob: wait for user delegation key: %w", ctx.Err())
	}
	defer func() { <-k.fetching }()
	if cred := k.cached(from, until); cred != nil { // fetched while we waited
		return cred, nil
	}
	now := k.now().UTC()
	// A minute more than the SAS's own backdating keeps the key's start
	// before the start of every SAS signed around now.
	start := now.Add(-clockSkew - time.Minute).Truncate(time.Second)
	expiry := now.Add(k.lifetime).Truncate(time.Second)
	if expiry.Before(until.Add(keyRenewMargin)) {
		return nil, fmt.Errorf("blob: a SAS until %s outlives a %s delegation key", until.Format(time.RFC3339), k.lifetime)
	}
	cred, err := k.source.GetUserDelegationCredential(ctx, service.KeyInfo{
		Start:  to.Ptr(start.Format(sas.TimeFormat)),
		Expiry: to.Ptr(expiry.Format(sas.TimeFormat)),
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("blob: get user delegation key: %w", err)
	}
	k.mu.Lock()
	k.cred, k.start, k.expiry = cred, start, expiry
	k.mu.Unlock()
	return cred, nil
}

func (k *delegationKeys) cached(from, until time.Time) *service.UserDelegationCredential {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cred == nil || k.start.After(from) || k.expiry.Before(until.Add(keyRenewMargin)) {
		return nil
	}
	return k.cred
}
