// Package version carries the build's version, set by `make dist` through -ldflags.
package version

// Version is overwritten at link time with -X; "dev" marks a local build.
var Version = "dev"
