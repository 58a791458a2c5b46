package cli

import (
	"context"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/milvault/milvault/milvus"
)

// milvusFlags are the global options of the Milvus connection beyond the
// address and the token: where the token comes from, and TLS.
type milvusFlags struct {
	TokenFile string
	TLS       milvus.TLSFiles
}

func (o *milvusFlags) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.TokenFile, "token-file", "", "file holding the Milvus token (user:password or API key); safer than --token, which other users can see")
	f.StringVar(&o.TLS.CA, "tls-ca", "", "PEM file of the CA that signed Milvus's certificate (implies TLS)")
	f.StringVar(&o.TLS.Cert, "tls-cert", "", "PEM client certificate for mutual TLS with Milvus (needs --tls-key)")
	f.StringVar(&o.TLS.Key, "tls-key", "", "PEM private key of --tls-cert")
	f.StringVar(&o.TLS.ServerName, "tls-server-name", "", "name to check Milvus's certificate against, when not the address's host (implies TLS)")
}

// tokenWarning is printed when the token was given on the command line.
const tokenWarning = "--token on the command line is visible to other users of this machine (ps, /proc, shell history); use MILVAULT_TOKEN or --token-file instead"

// resolveToken reads --token-file into the token, refusing both at once,
// and warns when the token was typed on the command line (onCommandLine,
// known before the environment and config file were applied).
func (g *GlobalOptions) resolveToken(onCommandLine bool) error {
	if onCommandLine && g.Token != "" {
		g.warnf("%s", tokenWarning)
	}
	if g.TokenFile == "" {
		return nil
	}
	if g.Token != "" && onCommandLine {
		return usageErrorf("give --token or --token-file, not both")
	}
	data, err := os.ReadFile(g.TokenFile)
	if err != nil {
		return usageErrorf("--token-file: %v", err)
	}
	g.Token = strings.TrimRight(string(data), "\r\n")
	if g.Token == "" {
		return usageErrorf("--token-file %s is empty", g.TokenFile)
	}
	return nil
}

// milvusConfig is the connection configuration to the server at address.
func (g *GlobalOptions) milvusConfig(address string) (milvus.Config, error) {
	conf, err := g.milvusFlags.TLS.Config()
	if err != nil {
		return milvus.Config{}, err
	}
	return milvus.Config{Address: address, Token: g.Token, TLS: conf}, nil
}

// connectTo opens a Milvus connection to address with the global token and
// TLS settings.
func (g *GlobalOptions) connectTo(ctx context.Context, address string) (*milvus.Client, error) {
	cfg, err := g.milvusConfig(address)
	if err != nil {
		return nil, err
	}
	return milvus.Connect(ctx, cfg)
}
