package webapp

import (
	"encoding/json"
	"net/http"
)

// StaticWebAppConfigName is the file Azure Static Web Apps reads at the
// root of the deployed folder.
const StaticWebAppConfigName = "staticwebapp.config.json"

// StaticWebAppConfig returns the staticwebapp.config.json that makes Azure
// Static Web Apps serve the export as ServeHTTP does: headers (the API's
// security headers, HSTS included: Static Web Apps is HTTPS only) on every
// response with the site's Content-Security-Policy in place of the API's,
// the immutable caching of /_next/static/*, and the export's 404.html for
// unknown paths. /api/* is left to the linked backend.
//
// One difference remains: Static Web Apps answers a navigation to an
// unknown page with its navigation fallback (404.html) and status 200,
// where ServeHTTP answers 404; requests the fallback excludes (/_next/*,
// files with an extension) get 404.html with status 404 from both.
func (s *Site) StaticWebAppConfig(headers [][2]string) ([]byte, error) {
	global := map[string]string{}
	for _, kv := range headers {
		global[kv[0]] = kv[1]
	}
	global["Content-Security-Policy"] = s.policy
	// No Cache-Control here: global headers may also reach /api responses
	// through the linked backend, whose no-store must stay.
	type override struct {
		Rewrite    string `json:"rewrite"`
		StatusCode int    `json:"statusCode"`
	}
	type route struct {
		Route   string            `json:"route"`
		Headers map[string]string `json:"headers"`
	}
	cfg := struct {
		TrailingSlash      string              `json:"trailingSlash"`
		NavigationFallback map[string]any      `json:"navigationFallback"`
		ResponseOverrides  map[string]override `json:"responseOverrides"`
		Routes             []route             `json:"routes"`
		GlobalHeaders      map[string]string   `json:"globalHeaders"`
		MimeTypes          map[string]string   `json:"mimeTypes"`
	}{
		TrailingSlash: "auto",
		NavigationFallback: map[string]any{
			"rewrite": "/404.html",
			"exclude": []string{"/_next/*", "/api/*", "*.{js,css,txt,json,map,ico,png,jpg,jpeg,gif,webp,avif,svg,woff,woff2,ttf,otf,xml,webmanifest}"},
		},
		ResponseOverrides: map[string]override{
			"404": {Rewrite: "/404.html", StatusCode: http.StatusNotFound},
		},
		Routes: []route{
			{Route: immutablePrefix + "*", Headers: map[string]string{"Cache-Control": "public, max-age=31536000, immutable"}},
		},
		GlobalHeaders: global,
		MimeTypes: map[string]string{
			".txt": contentTypes[".txt"],
		},
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
