package blob

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
)

// redacted replaces secrets in locations and error messages.
const redacted = "REDACTED"

// location is a parsed repository URL.
type location struct {
	scheme string     // s3, gs, azblob or mem
	bucket string     // bucket or container; empty for mem
	prefix string     // "" or a folder ending in "/"
	query  url.Values // driver parameters, passed on to gocloud
}

// schemes are the repository URL schemes Open accepts. Each is also the
// scheme of the gocloud driver that serves it.
var schemes = map[string]bool{"s3": true, "gs": true, "azblob": true, "mem": true}

// Supports reports whether Open understands the scheme of a repository URL.
func Supports(scheme string) bool { return schemes[scheme] }

// parseLocation splits a repository URL into bucket, prefix and driver
// parameters. Its errors never repeat the URL, which may hold secrets.
func parseLocation(raw string) (location, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return location{}, errors.New("repository URL is not a valid URL")
	}
	if !schemes[u.Scheme] {
		return location{}, fmt.Errorf("repository URL scheme %q is not supported (s3, gs, azblob, mem)", u.Scheme)
	}
	if u.User != nil {
		return location{}, errors.New("repository URL holds credentials: remove them and use the provider's environment variables or profile")
	}
	if u.Host == "" && u.Scheme != "mem" {
		return location{}, fmt.Errorf("repository URL %s:// names no bucket", u.Scheme)
	}
	prefix, err := cleanPrefix(u.Path)
	if err != nil {
		return location{}, err
	}
	return location{scheme: u.Scheme, bucket: u.Host, prefix: prefix, query: u.Query()}, nil
}

// cleanPrefix turns a URL path into a key prefix: no leading slash, one
// trailing slash, no empty, "." or ".." segments.
func cleanPrefix(path string) (string, error) {
	path = strings.Trim(path, "/")
	if path == "" {
		return "", nil
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("repository URL path %q has an empty, \".\" or \"..\" segment", path)
		}
	}
	return path + "/", nil
}

// driverURL is the gocloud URL that opens the bucket.
func (l location) driverURL() string {
	q := url.Values{}
	for k, vs := range l.query {
		q[k] = vs
	}
	if l.scheme == "s3" && !q.Has("response_checksum_validation") {
		// Restore verifies every file's own checksum; the SDK's validation
		// of multipart CRCs only prints warnings that it cannot.
		q.Set("response_checksum_validation", "when_required")
	}
	if l.scheme == "s3" && q.Has("endpoint") && !q.Has("region") && os.Getenv("AWS_REGION") == "" && os.Getenv("AWS_DEFAULT_REGION") == "" {
		// S3-compatible servers ignore the region, but the SDK needs one.
		q.Set("region", "us-east-1")
	}
	u := url.URL{Scheme: l.scheme, Host: l.bucket, RawQuery: q.Encode()}
	return u.String()
}

// String is the location for people: the URL with secret-looking query
// values replaced.
func (l location) String() string {
	q := url.Values{}
	for k, vs := range l.query {
		for _, v := range vs {
			if secretParam(k) {
				v = redacted
			}
			q.Add(k, redactURL(v))
		}
	}
	u := url.URL{Scheme: l.scheme, Host: l.bucket, Path: "/" + l.prefix, RawQuery: q.Encode()}
	if l.prefix == "" {
		u.Path = ""
	}
	s := u.String()
	if l.scheme == "mem" && l.bucket == "" {
		s = strings.Replace(s, "mem:", "mem://", 1)
	}
	return s
}

// secretNames matches query parameter names that carry secrets.
var secretNames = regexp.MustCompile(`(?i)secret|password|passwd|token|credential|signature|^sig$|sas|private_key$|access_?key|session`)

func secretParam(name string) bool { return secretNames.MatchString(name) }

// redactURL removes a password from a URL-valued parameter such as
// endpoint=https://user:pass@host.
func redactURL(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return v
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redacted)
	}
	return u.String()
}

// secretEnv names environment variables whose values must never appear in
// an error message, even when an SDK echoes them.
var secretEnv = []string{
	"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AZURE_STORAGE_KEY", "AZURE_STORAGE_SAS_TOKEN", "AZURE_STORAGE_CONNECTION_STRING",
	"AZURE_STORAGEBLOB_CONNECTIONSTRING", "AZURE_CLIENT_SECRET",
	"GOOGLE_APPLICATION_CREDENTIALS_JSON",
}

// secrets lists the values to scrub from error messages: secret query
// values of the URL and the provider credentials in the environment.
func (l location) secrets() []string {
	var out []string
	for k, vs := range l.query {
		if secretParam(k) {
			out = append(out, vs...)
		}
	}
	for _, name := range secretEnv {
		out = append(out, os.Getenv(name))
	}
	return longEnough(out)
}

// longEnough drops values too short to scrub without mangling messages.
func longEnough(vals []string) []string {
	var out []string
	for _, v := range vals {
		if len(v) >= 6 {
			out = append(out, v)
		}
	}
	return out
}

// RedactURL returns a repository URL fit to print: credentials and
// secret-looking query values replaced. A URL Open would refuse is
// returned as its scheme only.
func RedactURL(raw string) string {
	if !strings.Contains(raw, "://") {
		return raw // a local path holds no secrets
	}
	l, err := parseLocation(raw)
	if err != nil {
		scheme, _, _ := strings.Cut(raw, "://")
		return scheme + "://" + redacted
	}
	return l.String()
}
