package redact

import (
	"encoding/base64"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// Alphabets for fake secrets.
const (
	alnumChars = "aZ3kQ9xB7mW2pL5vN8cR4tY6hJ1dF0gS"
	tokChars   = "aZ3-kQ9_xB7mW2pL5vN8cR4tY6hJ1dF0gS"
	b64Chars   = "aZ3+kQ9/xB7mW2pL5vN8cR4tY6hJ1dF0gS"
	upperChars = "Q3EGRWUXZJ6KPN2T7YHMA4BCDF5LV"
	hexChars   = "0123456789abcdef"
)

// fill returns n bytes of alphabet in a scrambled order. Fake secrets are
// built from it and split literals, so that this file holds nothing a secret
// scanner would flag.
func fill(alphabet string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[(i*7+i/len(alphabet)+3)%len(alphabet)]
	}
	return string(b)
}

// Fake secrets of every built-in kind.
var (
	antAPI      = "sk-" + "ant-api03-" + fill(tokChars, 93) + "AA"
	antAdmin    = "sk-" + "ant-admin01-" + fill(tokChars, 90)
	antOAT      = "sk-" + "ant-oat01-" + fill(tokChars, 86)
	oaiProj     = "sk-" + "proj-" + fill(tokChars, 156)
	oaiSvc      = "sk-" + "svcacct-" + fill(tokChars, 60)
	oaiAdmin    = "sk-" + "admin-" + fill(tokChars, 40)
	oaiLegacy   = "sk-" + fill(alnumChars, 20) + "T3Blbk" + "FJ" + fill(alnumChars[5:], 20)
	ghp         = "gh" + "p_" + fill(alnumChars, 36)
	gho         = "gh" + "o_" + fill(alnumChars[3:], 36)
	ghs         = "gh" + "s_" + fill(alnumChars[7:], 36)
	ghPAT       = "github" + "_pat_" + fill(alnumChars, 22) + "_" + fill(alnumChars[2:], 59)
	glpat       = "gl" + "pat-" + fill(tokChars, 20)
	glrt        = "gl" + "rt-" + fill(tokChars[4:], 27)
	gldt        = "gl" + "dt-" + fill(tokChars[9:], 24)
	akia        = "AK" + "IA" + fill(upperChars, 16)
	asia        = "AS" + "IA" + fill(upperChars[5:], 16)
	awsDoc      = "AK" + "IA" + "IOSFODNN7EXAMPLE"
	awsSecret40 = fill(b64Chars, 40)
	gKey        = "AI" + "za" + fill(tokChars, 35)
	gOAuth      = "ya" + "29." + fill(tokChars[2:], 80)
	gClient     = "GOC" + "SPX-" + fill(tokChars[6:], 28)
	slackBot    = "xo" + "xb-" + "2345678901-3456789012345-" + fill(alnumChars, 24)
	slackUser   = "xo" + "xp-" + "2345678901-3456789012345-3456789012345-" + fill(hexChars, 32)
	slackApp    = "xa" + "pp-1-A0123456789-3456789012345-" + fill(hexChars, 64)
	slackPath   = "T0" + "1ABCDEFG/B0" + "1ABCDEFG/" + fill(alnumChars, 24)
	stripeSK    = "sk" + "_live_" + fill(alnumChars, 24)
	stripeRK    = "rk" + "_test_" + fill(alnumChars[4:], 30)
	whsec       = "wh" + "sec_" + fill(alnumChars, 32)
	npmTok      = "np" + "m_" + fill(alnumChars, 36)
	pypiTok     = "pypi-" + "AgEIcHlwaS5vcmc" + fill(tokChars, 70)
	pypiTest    = "pypi-" + "AgENdGVzdC5weXBpLm9yZw" + fill(tokChars[3:], 60)
	jwt         = "ey" + "JhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + "ey" + "JzdWIiOiIxMjM0NTY3ODkwIn0." + fill(tokChars, 43)
	pemBody     = "MIIEpAIBAAKCAQEA" + fill(b64Chars, 64) + "\n" + fill(b64Chars[3:], 64) + "\n" + fill(b64Chars[5:], 20) + "==\n"
)

// pem returns a PEM block of the given label around pemBody.
func pem(label string) string {
	return "-----BEGIN " + label + "-----\n" + pemBody + "-----END " + label + "-----"
}

// pngBase64 returns several KB of base64 that starts like a PNG, from seed.
func pngBase64(seed uint64, enc *base64.Encoding) string {
	rnd := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, 6000)
	for i := range b {
		b[i] = byte(rnd.UintN(256))
	}
	return "iVBORw0KGgoAAAANSUhEUgAA" + enc.EncodeToString(b)
}

type redactCase struct {
	name  string
	in    string
	want  string
	kinds []string
}

// ks shortens the kinds of a case.
func ks(kinds ...string) []string { return kinds }

// redactCases is the table of TestRedact, and the fuzzer's seeds.
func redactCases() []redactCase {
	png := pngBase64(1, base64.StdEncoding)
	return []redactCase{
		// anthropic
		{"anthropic env", "export ANTHROPIC_API_KEY=" + antAPI + "\n",
			"export ANTHROPIC_API_KEY=[REDACTED:anthropic]\n", ks("anthropic")},
		{"anthropic admin in prose", "use " + antAdmin + " for the admin API.",
			"use [REDACTED:anthropic] for the admin API.", ks("anthropic")},
		{"anthropic oauth in json", `{"accessToken":"` + antOAT + `","expiresAt":1750000000}`,
			`{"accessToken":"[REDACTED:anthropic]","expiresAt":1750000000}`, ks("anthropic")},

		// openai
		{"openai project key", `OPENAI_API_KEY="` + oaiProj + `"`,
			`OPENAI_API_KEY="[REDACTED:openai]"`, ks("openai")},
		{"openai service account in code", `client = OpenAI(api_key="` + oaiSvc + `")`,
			`client = OpenAI(api_key="[REDACTED:openai]")`, ks("openai")},
		{"openai admin and legacy", oaiAdmin + " and " + oaiLegacy,
			"[REDACTED:openai] and [REDACTED:openai]", ks("openai", "openai")},
		{"openai look-alikes", "a risk-free task-list on the desk-top: disk-usage, sk-1, sk-proj-short, sk-ant-x",
			"a risk-free task-list on the desk-top: disk-usage, sk-1, sk-proj-short, sk-ant-x", nil},

		// github
		{"github in a remote URL", "git remote set-url origin https://x-access-token:" + ghp + "@github.com/org/repo.git",
			"git remote set-url origin https://x-access-token:[REDACTED:github]@github.com/org/repo.git", ks("github")},
		{"github fine-grained", "token " + ghPAT + ".", "token [REDACTED:github].", ks("github")},
		{"github env beats env-secret", "GH_TOKEN=" + gho + "\nGITHUB_TOKEN=" + ghs,
			"GH_TOKEN=[REDACTED:github]\nGITHUB_TOKEN=[REDACTED:github]", ks("github", "github")},
		{"github inside a longer run or short", "x" + ghp + " " + ghp + "_x " + ghp[:39], "x" + ghp + " " + ghp + "_x " + ghp[:39], nil},

		// gitlab
		{"gitlab personal", "curl --header 'PRIVATE-TOKEN: " + glpat + "' https://gitlab.example.com/api/v4/projects",
			"curl --header 'PRIVATE-TOKEN: [REDACTED:gitlab]' https://gitlab.example.com/api/v4/projects", ks("gitlab")},
		{"gitlab runner and deploy", "runner " + glrt + " deploy " + gldt,
			"runner [REDACTED:gitlab] deploy [REDACTED:gitlab]", ks("gitlab", "gitlab")},

		// aws-access-key
		{"aws access key in ini", "[default]\naws_access_key_id = " + akia + "\n",
			"[default]\naws_access_key_id = [REDACTED:aws-access-key]\n", ks("aws-access-key")},
		{"aws sts json", `{"AccessKeyId": "` + asia + `", "Expiration": "2026-01-01T00:00:00Z"}`,
			`{"AccessKeyId": "[REDACTED:aws-access-key]", "Expiration": "2026-01-01T00:00:00Z"}`, ks("aws-access-key")},
		{"aws documented example", "e.g. " + awsDoc, "e.g. [REDACTED:aws-access-key]", ks("aws-access-key")},
		{"aws access key unbounded", "x" + akia + " " + akia + "9 " + akia[:19], "x" + akia + " " + akia + "9 " + akia[:19], nil},

		// aws-secret-key
		{"aws secret in ini", "aws_secret_access_key = " + awsSecret40 + "\nregion = us-east-1",
			"aws_secret_access_key = [REDACTED:aws-secret-key]\nregion = us-east-1", ks("aws-secret-key")},
		{"aws secret in json", `"SecretAccessKey": "` + awsSecret40 + `",`,
			`"SecretAccessKey": "[REDACTED:aws-secret-key]",`, ks("aws-secret-key")},
		{"aws secret env beats env-secret", "export AWS_SECRET_ACCESS_KEY=" + awsSecret40,
			"export AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-key]", ks("aws-secret-key")},
		{"aws secret yaml", "aws_secret: '" + awsSecret40 + "'", "aws_secret: '[REDACTED:aws-secret-key]'", ks("aws-secret-key")},
		{"aws both keys", "AWS_ACCESS_KEY_ID=" + akia + " AWS_SECRET_ACCESS_KEY=" + awsSecret40 + " aws s3 ls",
			"AWS_ACCESS_KEY_ID=[REDACTED:aws-access-key] AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-key] aws s3 ls",
			ks("aws-access-key", "aws-secret-key")},
		{"aws secret too long", "aws_secret_access_key = " + awsSecret40 + "A", "aws_secret_access_key = " + awsSecret40 + "A", nil},

		// google
		{"google api key in URL", "https://maps.googleapis.com/maps/api/geocode/json?key=" + gKey + "&address=x",
			"https://maps.googleapis.com/maps/api/geocode/json?key=[REDACTED:google]&address=x", ks("google")},
		{"google oauth token", "access_token: " + gOAuth, "access_token: [REDACTED:google]", ks("google")},
		{"google client secret", `"client_secret":"` + gClient + `"`, `"client_secret":"[REDACTED:google]"`, ks("google")},

		// slack
		{"slack bot token", "SLACK_BOT_TOKEN=" + slackBot, "SLACK_BOT_TOKEN=[REDACTED:slack]", ks("slack")},
		{"slack user and app tokens", slackUser + "\n" + slackApp, "[REDACTED:slack]\n[REDACTED:slack]", ks("slack", "slack")},
		{"slack webhook", `curl -X POST -d '{"text":"hi"}' https://hooks.slack.com/services/` + slackPath,
			`curl -X POST -d '{"text":"hi"}' https://hooks.slack.com/services/[REDACTED:slack]`, ks("slack")},
		{"slack look-alike", "xoxo, hugs", "xoxo, hugs", nil},

		// stripe
		{"stripe secret key", "stripe.api_key = '" + stripeSK + "'", "stripe.api_key = '[REDACTED:stripe]'", ks("stripe")},
		{"stripe restricted and webhook", stripeRK + ", " + whsec, "[REDACTED:stripe], [REDACTED:stripe]", ks("stripe", "stripe")},

		// npm
		{"npmrc", "//registry.npmjs.org/:_authToken=" + npmTok + "\n", "//registry.npmjs.org/:_authToken=[REDACTED:npm]\n", ks("npm")},
		{"npm env", "NPM_TOKEN=" + npmTok, "NPM_TOKEN=[REDACTED:npm]", ks("npm")},

		// pypi
		{"pypirc", "[pypi]\nusername = __token__\npassword = " + pypiTok + "\n",
			"[pypi]\nusername = __token__\npassword = [REDACTED:pypi]\n", ks("pypi")},
		{"test pypi", "twine upload -p " + pypiTest + " dist/*", "twine upload -p [REDACTED:pypi] dist/*", ks("pypi")},

		// jwt
		{"jwt bare", "the token was " + jwt + ".", "the token was [REDACTED:jwt].", ks("jwt")},
		{"jwt bearer beats authorization", "Authorization: Bearer " + jwt, "Authorization: Bearer [REDACTED:jwt]", ks("jwt")},
		{"jwt in query", "/callback?id_token=" + jwt + "&state=af0ifjsldkj", "/callback?id_token=[REDACTED:jwt]&state=af0ifjsldkj", ks("jwt")},
		{"jwt without signature", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", nil},

		// authorization
		{"authorization bearer", "Authorization: Bearer abc.def", "Authorization: Bearer [REDACTED:authorization]", ks("authorization")},
		{"authorization curl token", `curl -H "authorization: token 0123456789abcdef" https://api.example.com/x`,
			`curl -H "authorization: token [REDACTED:authorization]" https://api.example.com/x`, ks("authorization")},
		{"authorization basic in headers", "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic dXNlcjpwYXNz\r\nAccept: */*\r\n",
			"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic [REDACTED:authorization]\r\nAccept: */*\r\n", ks("authorization")},
		{"proxy authorization", "Proxy-Authorization: Basic dXNlcjpwYXNzd29yZA==", "Proxy-Authorization: Basic [REDACTED:authorization]", ks("authorization")},
		{"authorization json", `{"headers": {"Authorization": "Bearer 9f8e7d6c5b4a39281706", "Accept": "*/*"}}`,
			`{"headers": {"Authorization": "Bearer [REDACTED:authorization]", "Accept": "*/*"}}`, ks("authorization")},
		{"authorization digest", `Authorization: Digest username="Mufasa", realm="x", response="6629fae49393a05397450978507c4ef1"`,
			"Authorization: Digest [REDACTED:authorization]", ks("authorization")},
		{"authorization without scheme", "authorization: " + ghp[:4] + "x" + ghp[5:30], "authorization: [REDACTED:authorization]", ks("authorization")},
		{"authorization prose and placeholders",
			"the authorization flow\nAuthorization: see below\nAuthorization: Bearer <token>\nAuthorization: Bearer $TOKEN\n" +
				"Authorization: Bearer tokens expire\nheaders: { Authorization: authHeader },\n" + `{"Authorization": "Bearer " + token}`,
			"the authorization flow\nAuthorization: see below\nAuthorization: Bearer <token>\nAuthorization: Bearer $TOKEN\n" +
				"Authorization: Bearer tokens expire\nheaders: { Authorization: authHeader },\n" + `{"Authorization": "Bearer " + token}`, nil},

		// cookie
		{"cookie header", "Cookie: session=abc123; theme=dark\nAccept: */*", "Cookie: [REDACTED:cookie]\nAccept: */*", ks("cookie")},
		{"set-cookie", "Set-Cookie: id=a3fWa; Expires=Thu, 21 Oct 2021 07:28:00 GMT; Secure; HttpOnly",
			"Set-Cookie: [REDACTED:cookie]", ks("cookie")},
		{"cookie in curl", "curl -H 'cookie: sid=s%3Aabc.def' https://example.com", "curl -H 'cookie: [REDACTED:cookie]' https://example.com", ks("cookie")},
		{"cookie prose", "Cookie: a small file a site stores. document.cookie = x", "Cookie: a small file a site stores. document.cookie = x", nil},

		// private-key
		{"rsa key", "key:\n" + pem("RSA PRIVATE KEY") + "\ndone", "key:\n[REDACTED:private-key]\ndone", ks("private-key")},
		{"openssh key", pem("OPENSSH PRIVATE KEY") + "\n", "[REDACTED:private-key]\n", ks("private-key")},
		{"ec and pkcs8 keys", pem("EC PRIVATE KEY") + "\n" + pem("PRIVATE KEY"), "[REDACTED:private-key]\n[REDACTED:private-key]", ks("private-key", "private-key")},
		{"encrypted key", "x " + pem("ENCRYPTED PRIVATE KEY") + " y", "x [REDACTED:private-key] y", ks("private-key")},
		{"pgp key", pem("PGP PRIVATE KEY BLOCK"), "[REDACTED:private-key]", ks("private-key")},
		{"key in escaped json", `{"private_key":"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n","x":1}`,
			`{"private_key":"[REDACTED:private-key]\n","x":1}`, ks("private-key")},
		{"truncated key", "$ cat id_rsa\n-----BEGIN RSA PRIVATE KEY-----\n" + pemBody[:40], "$ cat id_rsa\n[REDACTED:private-key]", ks("private-key")},
		{"public key and certificate", pem("PUBLIC KEY") + "\n" + pem("CERTIFICATE"), pem("PUBLIC KEY") + "\n" + pem("CERTIFICATE"), nil},

		// url-password
		{"postgres URL", "postgres://app:hunter2@db:5432/x", "postgres://app:[REDACTED:url-password]@db:5432/x", ks("url-password")},
		{"redis without user", `REDIS_URL="redis://:s3cr3t@cache:6379/0"`, `REDIS_URL="redis://:[REDACTED:url-password]@cache:6379/0"`, ks("url-password")},
		{"password with @", "DATABASE_URL=mysql://root:p@ss@localhost/db", "DATABASE_URL=mysql://root:[REDACTED:url-password]@localhost/db", ks("url-password")},
		{"URLs without password",
			"http://user:@host/ git@github.com:org/repo.git user@example.com http://host:8080/path https://example.com/@user ssh://git@github.com:22/x",
			"http://user:@host/ git@github.com:org/repo.git user@example.com http://host:8080/path https://example.com/@user ssh://git@github.com:22/x", nil},

		// env-secret
		{"env password", "DB_PASSWORD=hunter2", "DB_PASSWORD=[REDACTED:env-secret]", ks("env-secret")},
		{"env export quoted", `export GITHUB_TOKEN="abc123"`, `export GITHUB_TOKEN="[REDACTED:env-secret]"`, ks("env-secret")},
		{"env single quotes with space", "JWT_SECRET='x y'", "JWT_SECRET='[REDACTED:env-secret]'", ks("env-secret")},
		{"env file",
			"APP_NAME=demo\nDB_PASSWORD=hunter2\nDB_PWD=x1\nSLACK_BOT_TOKEN=abc # bot\nTOKEN=t0k\nSMTP_PASS=mail\nOPENAI_API_KEY=k\nMAX_TOKENS=100\nTOKENIZER=bpe\n",
			"APP_NAME=demo\nDB_PASSWORD=[REDACTED:env-secret]\nDB_PWD=[REDACTED:env-secret]\nSLACK_BOT_TOKEN=[REDACTED:env-secret] # bot\nTOKEN=[REDACTED:env-secret]\nSMTP_PASS=[REDACTED:env-secret]\nOPENAI_API_KEY=[REDACTED:env-secret]\nMAX_TOKENS=100\nTOKENIZER=bpe\n",
			ks("env-secret", "env-secret", "env-secret", "env-secret", "env-secret", "env-secret")},
		{"env not secrets",
			"PASSWORD=\nTOKEN=$TOKEN\nPASSWORD=${DB_PASSWORD}\nPASSWORD=$(cat /run/secrets/db)\nTOKEN=`pass show x`\nif [ TOKEN==x ]\n" +
				"PASSWORD_FILE=/run/secrets/x\nTOKENIZER_PATH=/models/tok\nPWD=/home/me\nOLDPWD=/tmp\nSECRET_KEY = os.environ[\"SECRET_KEY\"]\n" +
				`TOKEN="$GITHUB_TOKEN"` + "\necho $API_TOKEN\nmyTOKEN=x\n",
			"PASSWORD=\nTOKEN=$TOKEN\nPASSWORD=${DB_PASSWORD}\nPASSWORD=$(cat /run/secrets/db)\nTOKEN=`pass show x`\nif [ TOKEN==x ]\n" +
				"PASSWORD_FILE=/run/secrets/x\nTOKENIZER_PATH=/models/tok\nPWD=/home/me\nOLDPWD=/tmp\nSECRET_KEY = os.environ[\"SECRET_KEY\"]\n" +
				`TOKEN="$GITHUB_TOKEN"` + "\necho $API_TOKEN\nmyTOKEN=x\n", nil},
		{"env in a command line", "docker run -e POSTGRES_PASSWORD=example -p 5432:5432 postgres",
			"docker run -e POSTGRES_PASSWORD=[REDACTED:env-secret] -p 5432:5432 postgres", ks("env-secret")},
		{"env yaml", "services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: example\n      - API_TOKEN=abc\n",
			"services:\n  db:\n    environment:\n      POSTGRES_PASSWORD: [REDACTED:env-secret]\n      - API_TOKEN=[REDACTED:env-secret]\n",
			ks("env-secret", "env-secret")},
		{"env python constant", "SECRET_KEY = 'django-insecure-abc'", "SECRET_KEY = '[REDACTED:env-secret]'", ks("env-secret")},
		{"env json", `{"env": {"API_TOKEN": "abc", "DEBUG": "1"}}`, `{"env": {"API_TOKEN": "[REDACTED:env-secret]", "DEBUG": "1"}}`, ks("env-secret")},
		{"env dsn beats url-password", "SECRET_DSN=postgres://app:pw@db/x", "SECRET_DSN=[REDACTED:env-secret]", ks("env-secret")},

		// negatives
		{"git hashes", "commit da39a3ee5e6b4b0d3255bfef95601890afd80709 (HEAD -> main)\nsha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
			"commit da39a3ee5e6b4b0d3255bfef95601890afd80709 (HEAD -> main)\nsha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", nil},
		{"uuid", "session 3f1c0a52-9d8e-4b7e-a1f2-0c9e8d7b6a54", "session 3f1c0a52-9d8e-4b7e-a1f2-0c9e8d7b6a54", nil},
		{"claude ids", `{"id":"toolu_01ABCDEFGHJKLMNPQRSTUVWX","message":"msg_01XYZABCDEFGHJKLMNPQRSTU","requestId":"req_011CTabcdefghijkLMNOPQRS"}`,
			`{"id":"toolu_01ABCDEFGHJKLMNPQRSTUVWX","message":"msg_01XYZABCDEFGHJKLMNPQRSTU","requestId":"req_011CTabcdefghijkLMNOPQRS"}`, nil},
		{"png base64", png, png, nil},
		{"prose", "The API key goes in a secret; never paste a password or a token here. Rotate the secret token yearly.",
			"The API key goes in a secret; never paste a password or a token here. Rotate the secret token yearly.", nil},
		{"markdown", "## Secrets\n\n- **Token**: see `docs/auth.md`\n- [Password reset](https://example.com/reset?user=me)\n",
			"## Secrets\n\n- **Token**: see `docs/auth.md`\n- [Password reset](https://example.com/reset?user=me)\n", nil},
		{"go code", "password := os.Getenv(\"DB_PASSWORD\")\nif token == \"\" {\n\treturn errNoToken\n}",
			"password := os.Getenv(\"DB_PASSWORD\")\nif token == \"\" {\n\treturn errNoToken\n}", nil},
		{"python code", "resp = client.messages.create(model=m, max_tokens=1024)\nprint(resp.usage.input_tokens)",
			"resp = client.messages.create(model=m, max_tokens=1024)\nprint(resp.usage.input_tokens)", nil},
		{"urls and emails", "see https://docs.example.com/a?b=c#d and mail ops@example.com or git clone git@gitlab.com:g/p.git",
			"see https://docs.example.com/a?b=c#d and mail ops@example.com or git clone git@gitlab.com:g/p.git", nil},
		{"already redacted", "GITHUB_TOKEN=[REDACTED:github]\nAuthorization: [REDACTED:authorization]\npostgres://u:[REDACTED:url-password]@h/x",
			"GITHUB_TOKEN=[REDACTED:github]\nAuthorization: [REDACTED:authorization]\npostgres://u:[REDACTED:url-password]@h/x", nil},
		{"empty", "", "", nil},

		// several at once
		{"mixed line", "ANTHROPIC_API_KEY=" + antAPI + " curl -u admin:" + "pw https://" + "u:pass1234@example.com -H 'Authorization: Bearer " + ghs + "'",
			"ANTHROPIC_API_KEY=[REDACTED:anthropic] curl -u admin:pw https://u:[REDACTED:url-password]@example.com -H 'Authorization: Bearer [REDACTED:github]'",
			ks("anthropic", "url-password", "github")},
	}
}

func TestRedact(t *testing.T) {
	cases := redactCases()
	if len(cases) < 60 {
		t.Errorf("%d cases, want 60 or more", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, found := Redact(tc.in)
			if got != tc.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			var kinds []string
			for _, f := range found {
				kinds = append(kinds, f.Kind)
			}
			if !slices.Equal(kinds, tc.kinds) {
				t.Errorf("kinds %q, want %q (findings %v)", kinds, tc.kinds, found)
			}
			checkFindings(t, tc.in, got, found)
			again, refound := Redact(got)
			if again != got || refound != nil {
				t.Errorf("not idempotent: %q gives %q, %v", got, again, refound)
			}
		})
	}
}

// Redact redacts s with the built-in rules only.
func Redact(s string) (string, []Finding) {
	var r Redactor
	return r.Redact(s)
}

// checkFindings checks that findings are in order, within in, do not overlap,
// and that replacing them in order turns in into out; and that nothing found
// means out is in itself.
func checkFindings(t testing.TB, in, out string, found []Finding) {
	t.Helper()
	if found == nil {
		if out != in || unsafe.StringData(out) != unsafe.StringData(in) {
			t.Errorf("nothing found but the output is not the input itself: %q", out)
		}
		return
	}
	if len(found) == 0 {
		t.Errorf("empty non-nil findings")
	}
	var b strings.Builder
	prev := 0
	for _, f := range found {
		if f.Start < prev || f.End <= f.Start || f.End > len(in) {
			t.Fatalf("finding %+v out of order, empty or out of bounds (previous end %d, input %d bytes)", f, prev, len(in))
		}
		b.WriteString(in[prev:f.Start])
		b.WriteString(Marker(f.Kind))
		prev = f.End
	}
	b.WriteString(in[prev:])
	if b.String() != out {
		t.Errorf("replacing the findings gives %q, output is %q", b.String(), out)
	}
}

// TestBase64Untouched checks that base64 blobs stay whole, even with runs in
// them shaped like keys but not bounded like keys.
func TestBase64Untouched(t *testing.T) {
	runs := []string{akia, asia, gKey, ghp, npmTok, stripeSK, jwt[:30], "sk-" + fill(alnumChars, 48), "TOKEN", "SECRET"}
	for seed := range uint64(40) {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding} {
			s := pngBase64(seed, enc)
			// Splice the runs in after a letter, so they are inside the blob's run.
			for i, run := range runs {
				at := 100 + i*500 + int(seed)
				for !alnum.has(s[at-1]) || !alnum.has(s[at]) {
					at++
				}
				s = s[:at] + run + s[at:]
			}
			got, found := Redact(s)
			if got != s || found != nil {
				t.Fatalf("seed %d: base64 changed: %v", seed, found)
			}
		}
	}
}

// TestNoAllocs checks that clean text costs no allocation, even with
// triggers in it that do not end in a finding.
func TestNoAllocs(t *testing.T) {
	clean := strings.Repeat("The session read main.go and ran `go test ./...`; see https://pkg.go.dev/strings "+
		"for the MAX_TOKENS limit, the authorization flow and the Cookie: header. "+
		"{\"type\":\"assistant\",\"usage\":{\"input_tokens\":12,\"output_tokens\":340}}\n", 10)[:2048]
	for _, extra := range [][]Pattern{nil, {{Kind: "employee-id", Regexp: `employee=(E\d{6})`}}} {
		r, err := New(extra)
		if err != nil {
			t.Fatal(err)
		}
		if got, found := r.Redact(clean); got != clean || found != nil {
			t.Fatalf("clean text changed: %v", found)
		}
		if raceEnabled {
			t.Skip("allocations are counted without the race detector, which allocates on its own")
		}
		if n := testing.AllocsPerRun(100, func() { r.Redact(clean) }); n != 0 {
			t.Errorf("%v allocations per run on clean text with %d user patterns, want 0", n, len(extra))
		}
	}
}

func TestUserPatterns(t *testing.T) {
	r, err := New([]Pattern{
		{Kind: "internal-host", Regexp: `\b[a-z0-9-]+\.corp\.example\.com\b`},
		{Kind: "employee-id", Regexp: `employee=(E\d{6})`},
	})
	if err != nil {
		t.Fatal(err)
	}
	in := "ssh build-7.corp.example.com employee=E123456 employee=X1 token " + ghp
	want := "ssh [REDACTED:internal-host] employee=[REDACTED:employee-id] employee=X1 token [REDACTED:github]"
	got, found := r.Redact(in)
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	checkFindings(t, in, got, found)
	if again, refound := r.Redact(got); again != got || refound != nil {
		t.Errorf("not idempotent: %q, %v", again, refound)
	}

	for _, p := range []Pattern{
		{Kind: "", Regexp: `x`},
		{Kind: "Upper", Regexp: `x`},
		{Kind: "-dash", Regexp: `x`},
		{Kind: "has space", Regexp: `x`},
		{Kind: strings.Repeat("k", 41), Regexp: `x`},
		{Kind: "bad-regexp", Regexp: `(unclosed`},
		{Kind: "empty-match", Regexp: `a*`},
		{Kind: "empty-group", Regexp: `^|x`},
	} {
		_, err := New([]Pattern{{Kind: "ok", Regexp: "fine"}, p})
		if err == nil || !strings.Contains(err.Error(), `redact pattern "`+p.Kind+`"`) {
			t.Errorf("New(%+v) error %v, want one naming the kind", p, err)
		}
	}
}

func TestKinds(t *testing.T) {
	want := []string{"anthropic", "authorization", "aws-access-key", "aws-secret-key", "cookie", "env-secret", "github",
		"gitlab", "google", "jwt", "npm", "openai", "private-key", "pypi", "slack", "stripe", "url-password"}
	if got := Kinds(); !slices.Equal(got, want) {
		t.Errorf("Kinds() = %q\nwant %q", got, want)
	}
	// Every kind is tested by a positive case of the table.
	seen := map[string]bool{}
	for _, tc := range redactCases() {
		for _, k := range tc.kinds {
			seen[k] = true
		}
	}
	for _, k := range want {
		if !seen[k] {
			t.Errorf("no case finds %s", k)
		}
		if !kindRE.MatchString(k) {
			t.Errorf("kind %q is not a valid kind", k)
		}
	}
}
