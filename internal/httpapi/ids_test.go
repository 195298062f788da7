package httpapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// nonCanonical returns forms of id that uuid.Parse accepts but that are not
// the canonical lower-case form.
func nonCanonical(id string) map[string]string {
	return map[string]string{
		"upper case":  strings.ToUpper(id),
		"mixed case":  upperFirstLetter(id),
		"braces":      "{" + id + "}",
		"urn":         "urn:uuid:" + id,
		"no hyphens":  strings.ReplaceAll(id, "-", ""),
		"urn, upper":  "urn:uuid:" + strings.ToUpper(id),
		"braces, urn": "{urn:uuid:" + id + "}",
	}
}

// upperFirstLetter upper-cases the first hex letter of id.
func upperFirstLetter(id string) string {
	i := strings.IndexAny(id, "abcdef")
	if i < 0 {
		panic("no hex letter in " + id)
	}
	return id[:i] + strings.ToUpper(id[i:i+1]) + id[i+1:]
}

// Every {id} route answers 404 not_found to an id that is not in canonical
// lower-case form, even when it names one of the user's own videos, and
// changes nothing.
func TestPathIDsAreAcceptedOnlyInCanonicalForm(t *testing.T) {
	h := newVideoHarness(t, mediaOptions{})
	alice := h.newVideoUser("ids@example.com")
	up := alice.startUpload("clip.mp4", "video/mp4", 1000)
	if status, _ := alice.video(up.VideoID); status != 200 {
		t.Fatalf("control: GET of the canonical id: %d", status)
	}
	routes := []struct{ method, path string }{
		{http.MethodGet, "/api/videos/%s"},
		{http.MethodDelete, "/api/videos/%s"},
		{http.MethodGet, "/api/uploads/%s"},
		{http.MethodPost, "/api/uploads/%s/renew"},
		{http.MethodPost, "/api/uploads/%s/complete"},
	}
	for name, id := range nonCanonical(up.VideoID) {
		for _, rt := range routes {
			path := strings.Replace(rt.path, "%s", url.PathEscape(id), 1)
			r := alice.do(rt.method, path, nil)
			if r.StatusCode != 404 || r.errorCode() != "not_found" {
				t.Errorf("%s %s (%s): %d %s", rt.method, path, name, r.StatusCode, r.body)
			}
		}
	}
	if status, v := alice.video(up.VideoID); status != 200 || v.Status != "pending_upload" {
		t.Errorf("the video after the refused requests: %d %+v", status, v)
	}
}
