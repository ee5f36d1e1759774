package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// printVersion is `gateway --version` and `gateway version`: the module version the binary
// was built from and, when the build recorded it, its VCS revision.
func printVersion(stdout io.Writer) error {
	info, ok := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionLine(info, ok))
	return nil
}

// versionLine is "gateway VERSION (revision REV[, modified], GOVERSION)" from build info.
func versionLine(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "gateway (no build information)"
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	var extra []string
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		r := "revision " + rev
		if settings["vcs.modified"] == "true" {
			r += ", modified"
		}
		extra = append(extra, r)
	}
	if info.GoVersion != "" {
		extra = append(extra, info.GoVersion)
	}
	if len(extra) == 0 {
		return "gateway " + version
	}
	return "gateway " + version + " (" + strings.Join(extra, ", ") + ")"
}

// moduleVersion is the version the binary was built from, for the traces' service.version.
func moduleVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
