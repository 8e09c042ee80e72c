package store

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// APIKeyPrefix starts every API key, so that a key found in a file or a log
// is recognized for what it is.
const APIKeyPrefix = "ins_"

// keyEncoding writes keys in lower-case base32 without padding: no
// characters that need quoting in a shell or a header.
var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewAPIKey makes a key of 256 random bits. Only its hash is stored; its
// prefix (the first characters after APIKeyPrefix) names it in lists.
func NewAPIKey() (key string, hash []byte, prefix string) {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	key = APIKeyPrefix + keyEncoding.EncodeToString(b)
	return key, HashAPIKey(key), KeyPrefix(key)
}

// HashAPIKey is the SHA-256 of a key. A key holds 256 random bits, so a
// fast hash is enough: there is nothing to guess.
func HashAPIKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// KeyPrefix is the part of a key shown to name it: APIKeyPrefix and 8
// characters (40 bits, not enough to guess the rest from).
func KeyPrefix(key string) string {
	rest := strings.TrimPrefix(key, APIKeyPrefix)
	return APIKeyPrefix + rest[:min(8, len(rest))]
}
