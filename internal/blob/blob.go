// Package blob wires Azure Blob Storage (azblob): a client for the videos
// container built from either a connection string with an account key
// (Azurite, development) or an account URL and an Entra ID credential
// (managed identity in production). Creating the client never contacts
// storage.
package blob

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

// Store is the blob container the project keeps its media in.
type Store struct {
	client    *azblob.Client
	container *container.Client
	name      string
	// sharedKey is set when the store signs SAS with the account key
	// (connection string); nil with Entra ID (user-delegation SAS).
	sharedKey *azblob.SharedKeyCredential
}

// Options select how to reach storage: exactly one of ConnectionString and
// AccountURL. Credential is used with AccountURL; nil means
// azidentity.DefaultAzureCredential (managed identity in Azure, honouring
// AZURE_CLIENT_ID for a user-assigned identity).
type Options struct {
	ConnectionString string
	AccountURL       string
	Credential       azcore.TokenCredential
	Container        string
}

// New returns a Store for opts.Container. It fails on a malformed
// connection string or a credential that cannot be built, not on an
// unreachable account.
func New(opts Options) (*Store, error) {
	s := &Store{name: opts.Container}
	switch {
	case opts.ConnectionString != "" && opts.AccountURL != "":
		return nil, errors.New("blob: set a connection string or an account URL, not both")
	case opts.ConnectionString != "":
		key, err := sharedKeyFrom(opts.ConnectionString)
		if err != nil {
			return nil, err
		}
		client, err := azblob.NewClientFromConnectionString(opts.ConnectionString, nil)
		if err != nil {
			return nil, errors.New("blob: the storage connection string is malformed")
		}
		s.client, s.sharedKey = client, key
	case opts.AccountURL != "":
		cred := opts.Credential
		if cred == nil {
			c, err := azidentity.NewDefaultAzureCredential(nil)
			if err != nil {
				return nil, fmt.Errorf("blob: build credential: %w", err)
			}
			cred = c
		}
		client, err := azblob.NewClient(strings.TrimSuffix(opts.AccountURL, "/")+"/", cred, nil)
		if err != nil {
			return nil, fmt.Errorf("blob: new client: %w", err)
		}
		s.client = client
	default:
		return nil, errors.New("blob: a connection string or an account URL is required")
	}
	s.container = s.client.ServiceClient().NewContainerClient(opts.Container)
	return s, nil
}

// sharedKeyFrom extracts the account name and key from a connection string.
func sharedKeyFrom(cs string) (*azblob.SharedKeyCredential, error) {
	var name, key string
	for _, part := range strings.Split(cs, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch strings.ToLower(k) {
		case "accountname":
			name = v
		case "accountkey":
			key = v
		}
	}
	if name == "" || key == "" {
		return nil, errors.New("blob: the storage connection string needs AccountName and AccountKey")
	}
	cred, err := azblob.NewSharedKeyCredential(name, key)
	if err != nil {
		return nil, errors.New("blob: the storage account key is not valid base64")
	}
	return cred, nil
}

// ContainerName returns the name of the media container.
func (s *Store) ContainerName() string { return s.name }

// Container returns the client of the media container.
func (s *Store) Container() *container.Client { return s.container }

// Service returns the account-level client.
func (s *Store) Service() *service.Client { return s.client.ServiceClient() }

// SharedKey returns the account key credential, or nil when the store uses
// Entra ID (then SAS must be user-delegation SAS).
func (s *Store) SharedKey() *azblob.SharedKeyCredential { return s.sharedKey }

// Ping reports whether the media container is reachable and exists.
func (s *Store) Ping(ctx context.Context) error {
	if _, err := s.container.GetProperties(ctx, nil); err != nil {
		if bloberror.HasCode(err, bloberror.ContainerNotFound) {
			return fmt.Errorf("blob: container %q does not exist", s.name)
		}
		return fmt.Errorf("blob: get container properties: %w", err)
	}
	return nil
}

// EnsureContainer creates the media container when it does not exist.
// In Azure the infrastructure creates it; locally (Azurite) the handler does.
func (s *Store) EnsureContainer(ctx context.Context) error {
	_, err := s.container.Create(ctx, nil)
	if err != nil && !bloberror.HasCode(err, bloberror.ContainerAlreadyExists) {
		return fmt.Errorf("blob: create container %q: %w", s.name, err)
	}
	return nil
}
