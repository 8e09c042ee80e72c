package redact

import (
	"fmt"
	"regexp"
	"strings"
)

// rule is one built-in way to find a secret.
//
// The scanner looks for the triggers; where one is, the match starts there, or
// earlier over the bytes of back (the rest of a name the trigger is part of),
// and re must match right at that start, within the trigger's line unless
// multiline. What is replaced is the submatch group, unless pick decides.
type rule struct {
	kind     string
	triggers []string // literals, two bytes or more; every match contains one
	back     *byteSet // bytes the match may extend over before its trigger; nil: it starts at the trigger
	src      string   // the regexp, matched anchored at the match's start
	group    int      // the submatch that is replaced, when pick is nil
	// edge holds the bytes that may not touch the match on either side: a
	// token is found whole or not at all, never inside a longer run (base64).
	edge *byteSet
	// pre, if set, rejects a trigger's place cheaply before re runs there.
	pre func(s string, p int) bool
	// pick judges what RE2 cannot (names, quotes, ends of values) and returns
	// the range to replace; m holds the submatch positions in s, eol the end of
	// the line.
	pick      func(s string, m []int, eol int) (lo, hi int, ok bool)
	multiline bool // the match may run over lines
	re        *regexp.Regexp
}

// Character classes of the rules.
var (
	alnum      = chars("A-Za-z0-9")
	word       = chars("A-Za-z0-9_")
	tokenChars = chars("A-Za-z0-9_-")
	base64Run  = chars("A-Za-z0-9/+=")
	upperName  = chars("A-Z0-9_")
	headerName = chars("A-Za-z-")
	schemeName = chars("A-Za-z0-9+.-")
	kindChars  = chars("a-z0-9-")
)

// maxBack bounds how far a match may start before its trigger, and the
// length of a name.
const maxBack = 128

// maxUserinfo bounds the user and password of a URL.
const maxUserinfo = 1024

// builtins is the rule table, most specific first: of two findings with the
// same range, the earlier rule names it (GITHUB_TOKEN=ghp_… is github, not
// env-secret).
var builtins = compile([]rule{
	{
		// A PEM private key, BEGIN to END lines; without END (cut output), to
		// the end of the text. Public keys and certificates are left alone.
		kind:      "private-key",
		triggers:  []string{"-----BEGIN "},
		src:       `-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`,
		pick:      pemBlock,
		multiline: true,
	},
	{
		kind:     "anthropic",
		triggers: []string{"sk-ant-"},
		src:      `sk-ant-[a-z]+[0-9]*-[A-Za-z0-9_-]{20,}`,
		edge:     tokenChars,
	},
	{
		// Project, service-account and admin keys, and the legacy sk- + 48.
		kind:     "openai",
		triggers: []string{"sk-"},
		src:      `sk-(?:(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{48})`,
		edge:     tokenChars,
	},
	{
		kind:     "github",
		triggers: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
		src:      `gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{82,}`,
		edge:     word,
	},
	{
		kind: "gitlab",
		triggers: []string{"glpat-", "gldt-", "glrt-", "glptt-", "glft-", "glsoat-", "glcbt-", "gloas-", "glimt-",
			"glagent-", "glffct-"},
		src:  `gl(?:pat|dt|rt|ptt|ft|soat|cbt|oas|imt|agent|ffct)-[A-Za-z0-9_-]{20,}`,
		edge: tokenChars,
	},
	{
		kind:     "slack",
		triggers: []string{"xox", "xapp-"},
		src:      `xox[abeoprs]-[0-9A-Za-z-]{10,}|xoxe\.xox[bp]-[0-9A-Za-z-]{10,}|xapp-[0-9A-Za-z-]{10,}`,
		edge:     tokenChars,
	},
	{
		// A webhook URL: the host stays, so that a reader sees what it was;
		// the path, which holds the workspace and the secret, goes.
		kind:     "slack",
		triggers: []string{"hooks.slack.com/"},
		src:      `hooks\.slack\.com/(?:services|workflows|triggers)/([A-Za-z0-9_/-]+)`,
		group:    1,
	},
	{
		// Secret and restricted keys, and webhook signing secrets; publishable
		// keys (pk_) are public.
		kind:     "stripe",
		triggers: []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"},
		src:      `(?:[sr]k_(?:live|test)|whsec)_[0-9A-Za-z]{16,}`,
		edge:     word,
	},
	{
		kind:     "npm",
		triggers: []string{"npm_"},
		src:      `npm_[A-Za-z0-9]{36}`,
		edge:     word,
	},
	{
		kind:     "pypi",
		triggers: []string{"pypi-AgEIcHlwaS5vcmc", "pypi-AgENdGVzdC5weXBpLm9yZw"},
		src:      `pypi-Ag(?:EIcHlwaS5vcmc|ENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}`,
		edge:     tokenChars,
	},
	{
		// API keys, OAuth access tokens and OAuth client secrets.
		kind:     "google",
		triggers: []string{"AIza", "ya29.", "GOCSPX-"},
		src:      `AIza[0-9A-Za-z_-]{35}|ya29\.[0-9A-Za-z_-]{20,}|GOCSPX-[0-9A-Za-z_-]{28}`,
		edge:     tokenChars,
	},
	{
		// Access key ids, bounded by non-alphanumerics so that a run inside
		// base64 is not one. AWS's documented example, AKIAIOSFODNN7EXAMPLE,
		// is one too.
		kind:     "aws-access-key",
		triggers: []string{"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA", "ABIA", "ACCA"},
		src:      `A(?:KIA|SIA|GPA|IDA|ROA|NPA|NVA|IPA|BIA|CCA)[A-Z0-9]{16}`,
		edge:     alnum,
	},
	{
		// A secret access key has no shape of its own (40 base64 bytes, like
		// a SHA-1 in hex): only the name before it tells.
		kind:     "aws-secret-key",
		triggers: []string{"ecret", "ECRET"},
		back:     tokenChars,
		pre:      assignment(tokenChars),
		src:      `([A-Za-z0-9_-]+)["']?[ \t]*(?:=>|=|:)[ \t]*["']?([A-Za-z0-9/+]{40})`,
		pick:     awsSecret,
	},
	{
		// Header, payload, signature; the signature is required.
		kind:     "jwt",
		triggers: []string{"eyJ"},
		src:      `eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}`,
		edge:     tokenChars,
	},
	{
		// The password of scheme://user:password@host; the user stays.
		kind:     "url-password",
		triggers: []string{"://"},
		back:     schemeName,
		pre:      userinfo,
		src:      "[A-Za-z0-9+.-]*[A-Za-z]://[^\\s/?#@:\"'<>`]*:([^\\s/?#\"'<>`]+)@[A-Za-z0-9\\[]",
		group:    1,
	},
	{
		// The header name and the scheme word stay; the credentials go, to the
		// end of the line or the closing quote. See authorization.
		kind:     "authorization",
		triggers: []string{"uthoriz", "UTHORIZ"},
		back:     headerName,
		pre:      assignment(headerName),
		src:      "(?i)(?:proxy-)?authorization([\"']?)[ \t]*:[ \t]*([\"']?)(?:([a-z][a-z0-9._-]*)[ \t]+)?([^\\s\"'`]+)",
		pick:     authorization,
	},
	{
		// Cookie and Set-Cookie headers whose value starts name=value; the
		// whole value goes, to the end of the line or the closing quote.
		kind:     "cookie",
		triggers: []string{"ookie", "OOKIE"},
		back:     headerName,
		pre:      assignment(headerName),
		src:      "(?i)(?:set-)?cookie([\"']?)[ \t]*:[ \t]*([\"']?)([!#%&*+.^_|~0-9a-z-]+=[^\\s;,\"'])",
		pick:     cookie,
	},
	{
		// NAME=value and its kin where NAME says secret. See envSecret.
		kind:     "env-secret",
		triggers: []string{"SECRET", "PASS", "PWD", "TOKEN", "APIKEY", "API_KEY", "PRIVATE_KEY", "ACCESS_KEY", "CREDENTIAL"},
		back:     upperName,
		pre:      assignment(upperName),
		src:      `([A-Z_][A-Z0-9_]*)(["']?)([ \t]*)(=|:)([ \t]*)`,
		pick:     envSecret,
	},
})

// trigger is a literal the scanner looks for, and the rule it calls.
type trigger struct {
	lit  string
	rule int
}

// bigrams maps the first two bytes of each trigger to one plus its index in
// triggerGroups; 0 means no trigger starts with those bytes.
var (
	bigrams       [1 << 16]uint8
	triggerGroups [][]trigger
)

// compile compiles the table's regexps and builds the trigger table.
func compile(rules []rule) []rule {
	if len(rules) > maxRules {
		panic("redact: too many rules")
	}
	add := func(t trigger) {
		if len(t.lit) < 2 {
			panic(fmt.Sprintf("redact: trigger %q is too short", t.lit))
		}
		pair := uint16(t.lit[0])<<8 | uint16(t.lit[1])
		if bigrams[pair] == 0 {
			triggerGroups = append(triggerGroups, nil)
			if len(triggerGroups) > 255 {
				panic("redact: too many trigger pairs")
			}
			bigrams[pair] = uint8(len(triggerGroups))
		}
		g := bigrams[pair] - 1
		triggerGroups[g] = append(triggerGroups[g], t)
	}
	add(trigger{markerPrefix, markerRule})
	for i := range rules {
		rules[i].re = regexp.MustCompile(`^(?:` + rules[i].src + `)`)
		for _, lit := range rules[i].triggers {
			add(trigger{lit, i})
		}
	}
	return rules
}

// match returns the range rule ru replaces for its match m in s.
func (ru *rule) match(s string, m []int, eol int) (lo, hi int, ok bool) {
	if ru.edge != nil && (m[0] > 0 && ru.edge.has(s[m[0]-1]) || m[1] < len(s) && ru.edge.has(s[m[1]])) {
		return 0, 0, false
	}
	if ru.pick != nil {
		return ru.pick(s, m, eol)
	}
	return m[2*ru.group], m[2*ru.group+1], m[2*ru.group] >= 0
}

// assignment returns a pre that wants the name around the trigger, made of
// the bytes of name, followed by = or :, maybe after a quote and blanks.
func assignment(name *byteSet) func(s string, p int) bool {
	return func(s string, p int) bool {
		for end := min(len(s), p+maxBack); p < len(s) && name.has(s[p]); p++ {
			if p == end {
				return false
			}
		}
		if p < len(s) && (s[p] == '"' || s[p] == '\'') {
			p++
		}
		for p < len(s) && (s[p] == ' ' || s[p] == '\t') {
			p++
		}
		return p < len(s) && (s[p] == '=' || s[p] == ':')
	}
}

// userinfo is the pre of url-password: after the "://" at p, an @ must come
// before the end of the authority, within maxUserinfo bytes.
func userinfo(s string, p int) bool {
	for i := p + len("://"); i < min(len(s), p+maxUserinfo); i++ {
		switch s[i] {
		case '@':
			return true
		case '/', '?', '#', ' ', '\t', '\n', '\r', '"', '\'', '<', '>', '`':
			return false
		}
	}
	return false
}

// pemBlock runs a private key block from its BEGIN line to the END line that
// closes it (any END naming a private key), or to the end of s.
func pemBlock(s string, m []int, _ int) (int, int, bool) {
	const end = "-----END "
	for at := m[1]; ; {
		i := strings.Index(s[at:], end)
		if i < 0 {
			return m[0], len(s), true
		}
		at += i + len(end)
		label := s[at:min(len(s), at+64)]
		if j := strings.Index(label, "-----"); j >= 0 && strings.Contains(label[:j], "PRIVATE KEY") {
			return m[0], at + j + len("-----"), true
		}
	}
}

// nameFold drops the separators of a name, once lower-cased.
var nameFold = strings.NewReplacer("_", "", "-", "")

// awsSecret takes the 40-byte value if the name before it is an AWS secret
// key's (aws_secret_access_key, SecretAccessKey, AWS_SECRET, …) and the value
// is not the start of a longer base64 run.
func awsSecret(s string, m []int, _ int) (int, int, bool) {
	if m[5] < len(s) && base64Run.has(s[m[5]]) {
		return 0, 0, false
	}
	name := nameFold.Replace(strings.ToLower(s[m[2]:m[3]]))
	if !strings.Contains(name, "secretaccesskey") && !strings.Contains(name, "awssecret") {
		return 0, 0, false
	}
	return m[4], m[5], true
}

// authSchemes are the Authorization schemes whose credentials may be short.
var authSchemes = []string{"basic", "bearer", "token", "digest", "negotiate", "ntlm", "bot", "apikey", "api-key",
	"key", "oauth", "dpop"}

// authorization takes an Authorization header's credentials, to the end of
// the line or the closing quote, if they look like credentials: a first word
// of 8 bytes or more (4 after a known scheme such as Bearer or Basic), not
// starting like a placeholder or a reference ($TOKEN, {token}, <token>, %s),
// and not a plain word ("Bearer tokens …"). Without a scheme word, the value
// must hold a byte other than a letter, so that code such as
// `Authorization: authHeader` stays.
func authorization(s string, m []int, eol int) (int, int, bool) {
	lo, credEnd := m[8], m[9]
	cred := s[lo:credEnd]
	minLen := 8
	if m[6] >= 0 {
		for _, sch := range authSchemes {
			if strings.EqualFold(s[m[6]:m[7]], sch) {
				minLen = 4
				break
			}
		}
	} else if onlyLetters(cred) {
		return 0, 0, false
	}
	if len(cred) < minLen || strings.IndexByte("${<[%", cred[0]) >= 0 || plainWord(cred) {
		return 0, 0, false
	}
	hi := headerEnd(s, headerQuote(s, m[0], m[4], m[5]), lo, eol)
	return lo, hi, hi > lo
}

// cookie takes a Cookie or Set-Cookie header's value, to the end of the line
// or the closing quote.
func cookie(s string, m []int, eol int) (int, int, bool) {
	lo := m[6]
	hi := headerEnd(s, headerQuote(s, m[0], m[4], m[5]), lo, eol)
	return lo, hi, hi > lo
}

// headerQuote is the quote that closes a header's value: the one opening the
// value after the colon, else the one before the header's name (-H "Name: v"),
// else none.
func headerQuote(s string, name, qlo, qhi int) byte {
	if qhi > qlo {
		return s[qlo]
	}
	if name > 0 && (s[name-1] == '"' || s[name-1] == '\'') {
		return s[name-1]
	}
	return 0
}

// headerEnd is where a header value starting at lo ends: at quote q if there
// is one, else at the end of the line, without trailing blanks.
func headerEnd(s string, q byte, lo, eol int) int {
	hi := eol
	if q != 0 {
		if i := strings.IndexByte(s[lo:eol], q); i >= 0 {
			hi = lo + i
		}
	}
	for hi > lo && (s[hi-1] == ' ' || s[hi-1] == '\t' || s[hi-1] == '\r') {
		hi--
	}
	return hi
}

// onlyLetters tells whether w is made of ASCII letters only.
func onlyLetters(w string) bool {
	for i := 0; i < len(w); i++ {
		if c := w[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// plainWord tells whether w is a lower-case word, capitalized or not.
func plainWord(w string) bool {
	return onlyLetters(w) && (len(w) < 2 || strings.ToLower(w[1:]) == w[1:])
}

// envBefore are the bytes that may come right before an assignment's name:
// the start of a line or a word of a command line, or an opening quote.
const envBefore = " \t\r\n;&|(`\"',?:"

// envSecret takes the value of an assignment to a variable whose name says it
// holds a secret (see secretName), in these forms:
//
//	NAME=value  NAME="value"  NAME='value'   at a line's start, after export, in a command line
//	NAME = "value"   "NAME": "value"         code and JSON: only a quoted value
//	NAME: value                              YAML, at a line's start: a single word to the end of the line
//
// Not taken: empty values, references ($NAME, ${NAME}, $(cmd), `cmd`),
// comparisons (NAME==x), and NAME = value unquoted (NAME = os.environ[…]).
// The quotes are not part of the value.
func envSecret(s string, m []int, eol int) (int, int, bool) {
	name := s[m[2]:m[3]]
	if !secretName(name) {
		return 0, 0, false
	}
	before := byte('\n')
	if m[0] > 0 {
		before = s[m[0]-1]
	}
	quotedName := m[5] > m[4]
	if quotedName && before != s[m[4]] || !quotedName && strings.IndexByte(envBefore, before) < 0 {
		return 0, 0, false
	}
	sep, v := s[m[8]], m[11]
	if v >= eol {
		return 0, 0, false
	}
	quoted := s[v] == '"' || s[v] == '\''
	spaced := m[7] > m[6] || m[11] > m[10]
	yaml := false
	switch {
	case sep == '=' && s[v] == '=':
		return 0, 0, false
	case sep == '=' && (spaced || quotedName) && !quoted:
		return 0, 0, false
	case sep == ':' && !quoted:
		if m[11] == m[10] || quotedName || !atLineStart(s, m[0]) {
			return 0, 0, false
		}
		yaml = true
	}
	if quoted {
		lo := v + 1
		hi := headerEnd(s, s[v], lo, eol)
		if hi == lo || s[v] == '"' && (s[lo] == '$' || s[lo] == '`') {
			return 0, 0, false
		}
		return lo, hi, true
	}
	if strings.IndexByte("$`", s[v]) >= 0 || yaml && strings.IndexByte("|>&*!{[#%@", s[v]) >= 0 {
		return 0, 0, false
	}
	hi := v
	for hi < eol && strings.IndexByte(" \t\r\"'`", s[hi]) < 0 {
		hi++
	}
	if yaml && headerEnd(s, 0, hi, eol) != hi {
		return 0, 0, false
	}
	return v, hi, true
}

// atLineStart tells whether only blanks and a YAML list dash come between
// the start of the line and i.
func atLineStart(s string, i int) bool {
	for i > 0 && (s[i-1] == ' ' || s[i-1] == '\t' || s[i-1] == '-') {
		i--
	}
	return i == 0 || s[i-1] == '\n'
}

// secretWords are the name parts that make a variable secret; secretPairs the
// pairs of consecutive parts.
var (
	secretWords = []string{"SECRET", "PASSWORD", "PASSWD", "PASS", "PWD", "TOKEN", "APIKEY", "CREDENTIALS", "CREDENTIAL"}
	secretPairs = []string{"API_KEY", "PRIVATE_KEY", "ACCESS_KEY"}
	// notSecret are last parts that make the variable about a secret rather
	// than the secret: PASSWORD_FILE=/run/secrets/db, TOKEN_URL=…, MAX_TOKEN_LENGTH=….
	notSecret = []string{"FILE", "PATH", "DIR", "URL", "URI", "ENDPOINT", "HOST", "PORT", "NAME", "TYPE", "LENGTH",
		"LEN", "SIZE", "TTL", "EXPIRY", "EXPIRES", "TIMEOUT", "LIMIT", "COUNT", "MAX", "MIN", "ENABLED", "HEADER", "PREFIX"}
)

// secretName tells whether a variable name says it holds a secret: one of its
// _-separated parts is a secret word (GITHUB_TOKEN, DB_PWD), so that
// MAX_TOKENS and TOKENIZER are not, and its last part is not in notSecret.
// PWD alone is the shell's working directory.
func secretName(name string) bool {
	if name == "PWD" {
		return false
	}
	found := false
	prev := ""
	for rest := name; ; {
		part, after, more := strings.Cut(rest, "_")
		if !more && contains(notSecret, part) {
			return false
		}
		if contains(secretWords, part) || prev != "" && contains(secretPairs, prev+"_"+part) {
			found = true
		}
		if !more {
			return found
		}
		prev, rest = part, after
	}
}

func contains(list []string, w string) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}

// byteSet is a set of bytes.
type byteSet [4]uint64

func (b *byteSet) has(c byte) bool { return b[c>>6]&(1<<(c&63)) != 0 }

// chars returns the set of the bytes in spec, where a-z stands for a range;
// a '-' first or last is itself.
func chars(spec string) *byteSet {
	var b byteSet
	for i := 0; i < len(spec); i++ {
		lo, hi := spec[i], spec[i]
		if i+2 < len(spec) && spec[i+1] == '-' {
			hi = spec[i+2]
			i += 2
		}
		for c := int(lo); c <= int(hi); c++ {
			b[c>>6] |= 1 << (c & 63)
		}
	}
	return &b
}
