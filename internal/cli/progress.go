package cli

import (
	"io"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// isTerminal reports whether v is an *os.File attached to a terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// progressFlags are the flags every command with a progress bar shares.
type progressFlags struct {
	quiet bool // --quiet: no progress at all
	force bool // --progress: a bar even off a terminal or with --format json
}

func (p *progressFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&p.quiet, "quiet", false, "no progress bar")
	f.BoolVar(&p.force, "progress", false, "draw the progress bar even when standard error is not a terminal or with --format json")
}

// showBar is the one place that decides whether a command draws a
// progress bar on w (standard error): never with --quiet; with --progress
// always; otherwise only when w is a terminal and the output is not
// machine-readable (--format json), so that `… --format json 2>err` and CI
// logs hold no bar frames.
func showBar(w io.Writer, format string, p progressFlags) bool {
	switch {
	case p.quiet:
		return false
	case p.force:
		return true
	case format == "json":
		return false
	}
	return isTerminal(w)
}

// deprecatedAnnotation marks a hidden old spelling of a flag; its value is
// the spelling to use instead.
const deprecatedAnnotation = "tollgate/deprecated"

// deprecate hides the old spelling name of a flag (it keeps working) and
// makes the root command warn on standard error when it is used. cobra's
// own MarkDeprecated would print the warning on standard output, into
// --format json output.
func deprecate(f *pflag.FlagSet, name, use string) {
	_ = f.MarkHidden(name)
	_ = f.SetAnnotation(name, deprecatedAnnotation, []string{use})
}

// warnDeprecated tells on w about each old spelling set on the command line.
func warnDeprecated(w io.Writer, f *pflag.FlagSet) {
	f.Visit(func(fl *pflag.Flag) {
		if use := fl.Annotations[deprecatedAnnotation]; len(use) > 0 {
			_, _ = io.WriteString(w, "tollgate: --"+fl.Name+" is deprecated: use "+use[0]+"\n")
		}
	})
}
