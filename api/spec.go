// Package openapi embeds the gateway's contract, api/openapi.yaml, into the binary.
package openapi

import _ "embed"

// Document is api/openapi.yaml as written: served at /openapi.yaml and loaded once at
// start-up to validate every request.
//
//go:embed openapi.yaml
var Document []byte
