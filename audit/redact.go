package audit

import "strings"

// Redacted replaces the value of a secret parameter.
const Redacted = "[redacted]"

// secretWords mark a parameter as secret when its name contains one.
var secretWords = []string{"token", "password", "passwd", "secret", "key", "credential", "passphrase"}

// Redact returns a copy of params with the values of secret-looking keys
// (named like token, password, secret, key, ...) replaced by Redacted, in
// nested maps too. URL-like string values lose their user info and query
// (where credentials may hide).
func Redact(params map[string]any) map[string]any {
	if params == nil {
		return nil
	}
	out := make(map[string]any, len(params))
	for k, v := range params {
		if isSecret(k) && v != nil && v != "" {
			out[k] = Redacted
			continue
		}
		out[k] = redactValue(v)
	}
	return out
}

func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return Redact(x)
	case string:
		return redactURL(x)
	}
	return v
}

func isSecret(key string) bool {
	k := strings.ToLower(key)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// redactURL drops the user info and query of a URL-like value.
func redactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	host, path, _ := strings.Cut(rest, "/")
	if at := strings.LastIndex(host, "@"); at >= 0 {
		host = Redacted + "@" + host[at+1:]
	}
	out := scheme + "://" + host
	if path != "" || strings.Contains(rest, "/") {
		out += "/" + path
	}
	if base, _, hasQuery := strings.Cut(out, "?"); hasQuery {
		out = base + "?" + Redacted
	}
	return out
}
