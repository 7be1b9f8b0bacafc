package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// runFunc runs one command with the arguments after its name.
type runFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// command is one leaf of the command tree, e.g. "local up" or "status".
type command struct {
	path    []string // e.g. {"local", "up"}
	args    string   // argument synopsis for usage, e.g. "[-jobs N] [flags]"
	summary string
	run     runFunc
}

var commands []*command

// register adds a command; each command's file registers itself from init:
//
//	func init() { register("status", "[flags]", "show runners and queues", runStatus) }
func register(path, args, summary string, run runFunc) {
	c := &command{path: strings.Fields(path), args: args, summary: summary, run: run}
	for _, o := range commands {
		if slices.Equal(o.path, c.path) {
			panic("ghr: command registered twice: " + path)
		}
	}
	commands = append(commands, c)
}

// errUsage marks a mistake in the command line: main exits 2 and nothing was done.
var errUsage = errors.New("usage")

type usageError struct{ msg string }

func (e usageError) Error() string   { return e.msg }
func (e usageError) Is(t error) bool { return t == errUsage }

// errHelpShown ends a command whose help was printed; run turns it into success.
var errHelpShown = errors.New("help shown")

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" || a == "help" }

// dispatch finds the longest registered command that prefixes args and runs it. A group name
// alone (e.g. "local"), a help word, or an unknown command prints that group's usage.
func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var best *command
	for _, c := range commands {
		if len(c.path) <= len(args) && slices.Equal(c.path, args[:len(c.path)]) && (best == nil || len(c.path) > len(best.path)) {
			best = c
		}
	}
	if best != nil {
		rest := args[len(best.path):]
		if len(rest) > 0 && isHelp(rest[0]) {
			if len(under(best.path)) > 1 { // also a group, like "sim": list its subcommands too
				fmt.Fprintln(stdout, usageText(best.path))
			}
			rest = []string{"-h"}
		}
		return best.run(ctx, rest, stdout, stderr)
	}
	// No command: the longest known group prefix decides whose usage to show.
	group := []string{}
	for len(group) < len(args) && !isHelp(args[len(group)]) && len(under(append(group, args[len(group)]))) > 0 {
		group = append(group, args[len(group)])
	}
	usage := usageText(group)
	if len(args) > len(group) && isHelp(args[len(group)]) {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	if len(args) > len(group) {
		return usageError{fmt.Sprintf("unknown command %q\n%s", strings.Join(args[:len(group)+1], " "), usage)}
	}
	return usageError{usage}
}

// under lists the commands whose path starts with prefix.
func under(prefix []string) []*command {
	var out []*command
	for _, c := range commands {
		if len(c.path) >= len(prefix) && slices.Equal(c.path[:len(prefix)], prefix) {
			out = append(out, c)
		}
	}
	return out
}

func usageText(group []string) string {
	cs := under(group)
	sort.Slice(cs, func(i, j int) bool { return strings.Join(cs[i].path, " ") < strings.Join(cs[j].path, " ") })
	var b strings.Builder
	b.WriteString("usage:\n")
	for _, c := range cs {
		syn := strings.TrimSpace("ghr " + strings.Join(c.path, " ") + " " + c.args)
		fmt.Fprintf(&b, "  %-44s %s\n", syn, c.summary)
	}
	b.WriteString("\nRun 'ghr COMMAND -h' for a command's flags.")
	return b.String()
}

// newFlags returns a flag set for the command at path whose usage names it.
func newFlags(path string) *flag.FlagSet {
	fs := flag.NewFlagSet("ghr "+path, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage of ghr %s:\n", path)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, allowing no positional arguments beyond maxArgs (-1: any). Help
// goes to stdout and ends the command with success; a bad flag or argument is a usage error
// reported before the command does any work.
func parseFlags(fs *flag.FlagSet, args []string, maxArgs int, stdout io.Writer) error {
	var buf bytes.Buffer
	fs.SetOutput(&buf)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		_, _ = stdout.Write(buf.Bytes())
		return errHelpShown
	case err != nil:
		return usageError{strings.TrimSpace(buf.String())}
	}
	if maxArgs >= 0 && fs.NArg() > maxArgs {
		buf.Reset()
		fs.Usage()
		return usageError{fmt.Sprintf("unexpected argument %q\n%s", fs.Arg(maxArgs), strings.TrimSpace(buf.String()))}
	}
	return nil
}
