package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func init() { register(newPackageCmd) }

// modulePath is the module the layer's binary is built from.
const modulePath = "github.com/tollgatehq/tollgate"

// lambdaArchs maps Lambda's architecture names to GOARCH.
var lambdaArchs = map[string]string{"x86_64": "amd64", "arm64": "arm64"}

func newPackageCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "package",
		Short:   "Build deployment packages (a Lambda layer with the tollgate extension)",
		Example: `  tollgate package lambda-layer --arch arm64 -o layer.zip`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPackageLayerCmd())
	return cmd
}

func newPackageLayerCmd() *cobra.Command {
	var arch, out, source, binary string
	cmd := &cobra.Command{
		Use:   "lambda-layer --arch x86_64|arm64 -o layer.zip",
		Short: "Build the Lambda layer zip holding the tollgate extension",
		Long: `Build a Lambda layer: a zip with the tollgate binary at extensions/tollgate,
cross-compiled for Linux on the given architecture with the Go toolchain
(CGO_ENABLED=0, a static binary that runs on every Lambda runtime). Lambda
starts it beside the function as an extension (see tollgate extension --help).

The binary is built from the tollgate module source (--source, default: the
module containing the current directory); --binary packages a binary you
built yourself instead.

Then publish it and add it to a function:
  aws lambda publish-layer-version --layer-name tollgate --zip-file fileb://layer.zip --compatible-architectures arm64
  aws lambda update-function-configuration --function-name dialer --layers <LayerVersionArn> \
    --environment 'Variables={AWS_ENDPOINT_URL_CONNECT=http://127.0.0.1:9787,TOLLGATE_REDIS_URL=rediss://cache.example:6379}'`,
		Example: `  tollgate package lambda-layer --arch arm64 -o layer.zip
  tollgate package lambda-layer --arch x86_64 -o layer-x86_64.zip --source ~/src/tollgate
  CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -o ./tollgate-arm64 ./cmd/tollgate && tollgate package lambda-layer --arch arm64 --binary ./tollgate-arm64 -o layer.zip`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			goarch, ok := lambdaArchs[arch]
			if !ok {
				return usageError("--arch %q: must be x86_64 or arm64", arch)
			}
			if out == "" {
				return usageError("-o: required (the layer zip to write)")
			}
			bin := binary
			if bin == "" {
				dir, err := os.MkdirTemp("", "tollgate-layer-")
				if err != nil {
					return &ExitError{Code: ExitFailure, Err: err}
				}
				defer os.RemoveAll(dir)
				bin = filepath.Join(dir, "tollgate")
				if err := buildForLambda(cmd.Context(), source, goarch, bin, cmd.ErrOrStderr()); err != nil {
					return err
				}
			}
			if err := checkLinuxBinary(bin, goarch); err != nil {
				return usageError("--binary: %v", err)
			}
			if err := writeLayer(out, bin); err != nil {
				return &ExitError{Code: ExitFailure, Err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (extensions/tollgate, linux/%s)\n", out, goarch)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&arch, "arch", "", "Lambda architecture: x86_64 or arm64")
	f.StringVarP(&out, "output", "o", "", "the layer zip to write")
	f.StringVar(&source, "source", "", "the tollgate module source to build (default: the module containing the current directory)")
	f.StringVar(&binary, "binary", "", "package this linux binary instead of building one")
	return cmd
}

// moduleRoot returns the directory of the tollgate module at or above dir.
func moduleRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			first, _, _ := strings.Cut(string(b), "\n")
			if strings.TrimSpace(first) == "module "+modulePath {
				return d, nil
			}
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no %s module at or above %s: pass --source or --binary", modulePath, dir)
		}
		d = parent
	}
}

// buildForLambda cross-compiles cmd/tollgate for linux/goarch into out.
func buildForLambda(ctx context.Context, source, goarch, out string, stderr io.Writer) error {
	if source == "" {
		source = "."
	}
	root, err := moduleRoot(source)
	if err != nil {
		return usageError("--source: %v", err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return usageError("the Go toolchain is needed to cross-compile (or pass --binary): %v", err)
	}
	c := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags", "-s -w -X "+modulePath+"/internal/cli.Version="+Version, "-o", out, "./cmd/tollgate")
	c.Dir = root
	c.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	var msg bytes.Buffer
	c.Stdout, c.Stderr = &msg, &msg
	if err := c.Run(); err != nil {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("go build (linux/%s): %w\n%s", goarch, err, msg.String())}
	}
	return nil
}

// writeLayer writes the zip with bin at extensions/tollgate, executable.
func writeLayer(out, bin string) error {
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, d := range []string{"extensions/"} {
		h := &zip.FileHeader{Name: d, Modified: time.Unix(0, 0).UTC()}
		h.SetMode(os.ModeDir | 0o755)
		if _, err := zw.CreateHeader(h); err != nil {
			return err
		}
	}
	h := &zip.FileHeader{Name: "extensions/tollgate", Method: zip.Deflate, Modified: time.Unix(0, 0).UTC()}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}
