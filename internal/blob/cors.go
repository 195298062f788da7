package blob

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

// Browser uploads go straight to storage, from the frontend's origin: the
// account must answer CORS preflights for Put Block / Put Block List (PUT
// with x-ms-* headers) and playback (GET, HEAD).
const (
	corsMethods        = "PUT,GET,HEAD,OPTIONS"
	corsAllowedHeaders = "x-ms-*,content-type,content-length,content-md5,range"
	corsExposedHeaders = "x-ms-*,etag,content-length,content-range,content-type,last-modified"
	corsMaxAgeSeconds  = 3600
	maxCORSRules       = 5 // Blob Storage's limit per service
)

// AllowBrowserUploads makes sure the account's Blob service has a CORS rule
// that lets origins upload and play blobs. Rules for other origin sets are
// kept; a rule for exactly these origins is replaced. In Azure the
// infrastructure sets CORS; the handler calls this for the local emulator.
func (s *Store) AllowBrowserUploads(ctx context.Context, origins []string) error {
	if len(origins) == 0 {
		return nil
	}
	sorted := slices.Clone(origins)
	slices.Sort(sorted)
	allowed := strings.Join(slices.Compact(sorted), ",")
	props, err := s.Service().GetProperties(ctx, nil)
	if err != nil {
		return fmt.Errorf("blob: get service properties: %w", err)
	}
	rule := &service.CORSRule{
		AllowedOrigins:  to.Ptr(allowed),
		AllowedMethods:  to.Ptr(corsMethods),
		AllowedHeaders:  to.Ptr(corsAllowedHeaders),
		ExposedHeaders:  to.Ptr(corsExposedHeaders),
		MaxAgeInSeconds: to.Ptr(int32(corsMaxAgeSeconds)),
	}
	rules := []*service.CORSRule{rule}
	for _, r := range props.CORS {
		if r != nil && (r.AllowedOrigins == nil || *r.AllowedOrigins != allowed) {
			rules = append(rules, r)
		}
	}
	if len(rules) > maxCORSRules {
		return fmt.Errorf("blob: the account already has %d CORS rules; remove one so that %s can be allowed", len(rules)-1, allowed)
	}
	if _, err := s.Service().SetProperties(ctx, &service.SetPropertiesOptions{CORS: rules}); err != nil {
		return fmt.Errorf("blob: set CORS rules: %w", err)
	}
	return nil
}
