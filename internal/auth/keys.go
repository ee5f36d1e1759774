package auth

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// KeyPrefix starts every key NewKey makes: it marks a string as a gateway key (secret scanners,
// people), and a key never holds a '.', so it is never taken for a JWT.
const KeyPrefix = "cgw_"

// keyBytes is the randomness of a key: 32 bytes, 256 bits.
const keyBytes = 32

// maxNameLen bounds a key's name.
const maxNameLen = 64

// maxKeysFile bounds the keys file read.
const maxKeysFile = 1 << 20

// NewKey makes an API key, "cgw_" and 32 random bytes in unpadded base64url (47 characters,
// no '.'), and its digest: the lowercase hex SHA-256 of the key, which is what the keys file
// holds.
func NewKey() (key, digest string, err error) {
	b := make([]byte, keyBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("auth: new key: %w", err)
	}
	key = KeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, Digest(key), nil
}

// Digest is the lowercase hex SHA-256 of an API key, as the keys file holds it.
func Digest(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// CheckName says what is wrong with an API key's name, or nil: 1 to 64 characters, letters,
// digits and "._@-", starting with a letter or a digit. The name is on every log line and
// audit event of the key's requests.
func CheckName(name string) error {
	if name == "" {
		return errors.New("the name is empty")
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("the name is longer than %d characters", maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || (c != '.' && c != '_' && c != '@' && c != '-')) {
			return fmt.Errorf("the name %q must be letters, digits and \"._@-\", starting with a letter or a digit", name)
		}
	}
	return nil
}

// CheckScopes says what is wrong with a list of scopes, or nil: at least one, each known.
func CheckScopes(scopes []string) error {
	if len(scopes) == 0 {
		return fmt.Errorf("no scopes (known: %s)", strings.Join(allScopes, ", "))
	}
	for _, s := range scopes {
		if !IsScope(s) {
			return fmt.Errorf("unknown scope %q (known: %s)", s, strings.Join(allScopes, ", "))
		}
	}
	return nil
}

// KeyLine is the keys file's entry for a key, one line of YAML:
// "- {name: N, sha256: <hex>, scopes: [s1, s2]}". The name, the digest and the scopes are
// checked first; a name YAML would read as something else than a string (true, null, 1e3) is
// quoted.
func KeyLine(name, digest string, scopes []string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if _, ok := parseDigest(digest); !ok {
		return "", errors.New("the digest is not 64 lowercase hex characters")
	}
	if err := CheckScopes(scopes); err != nil {
		return "", err
	}
	return fmt.Sprintf("- {name: %s, sha256: %s, scopes: [%s]}", yamlScalar(name), yamlScalar(digest), strings.Join(scopes, ", ")), nil
}

// yamlScalar is s as a YAML scalar that reads back as the string s: plain when it can be,
// quoted when YAML would read it as a bool, a number or null. (Names and digests hold no
// character special in a flow collection.)
func yamlScalar(s string) string {
	b, err := yaml.Marshal(s)
	if err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSuffix(string(b), "\n")
}

// keyring is the API keys: digests only, never a key.
type keyring struct {
	digests [][sha256.Size]byte
	callers []Caller
}

// lookup finds the key's caller. It hashes the key and compares the digest with every entry in
// constant time, with no early exit: the time taken says nothing of which entry matched, or
// whether one did.
func (k *keyring) lookup(key string) (Caller, bool) {
	if len(key) > maxAPIKeyLen {
		return Caller{}, false
	}
	var buf [maxAPIKeyLen]byte // hashing a copy on the stack allocates nothing
	sum := sha256.Sum256(buf[:copy(buf[:], key)])
	match, found := 0, 0
	for i := range k.digests {
		eq := subtle.ConstantTimeCompare(sum[:], k.digests[i][:])
		match = subtle.ConstantTimeSelect(eq, i, match)
		found |= eq
	}
	if found != 1 {
		return Caller{}, false
	}
	return k.callers[match], true
}

type keysFile struct {
	Keys []keyEntry `yaml:"keys"`
}

type keyEntry struct {
	Name   string   `yaml:"name"`
	SHA256 string   `yaml:"sha256"`
	Scopes []string `yaml:"scopes"`
}

// loadKeysFile reads and checks the keys file. Its errors name the file and the entry (its
// number and line, and its name), never a digest.
func loadKeysFile(path string) (*keyring, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("auth: API keys file %s: %s", path, fmt.Sprintf(format, args...))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("auth: API keys file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeysFile+1))
	if err != nil {
		return nil, fmt.Errorf("auth: API keys file: %w", err)
	}
	if len(data) > maxKeysFile {
		return nil, fail("larger than %d bytes", maxKeysFile)
	}

	var kf keysFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&kf); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fail("empty; want keys: [{name, sha256, scopes}]")
		}
		return nil, fail("%v", err)
	}
	// The same document again as nodes, for the line of each entry.
	var doc yaml.Node
	_ = yaml.Unmarshal(data, &doc)
	lines := entryLines(&doc)

	if len(kf.Keys) == 0 {
		return nil, fail("no keys; want keys: [{name, sha256, scopes}]")
	}
	kr := &keyring{}
	names := map[string]int{}
	digests := map[[sha256.Size]byte]int{}
	for i, e := range kf.Keys {
		where := fmt.Sprintf("entry %d", i+1)
		if i < len(lines) {
			where += fmt.Sprintf(" (line %d)", lines[i])
		}
		if e.Name != "" {
			where += fmt.Sprintf(" %q", e.Name)
		}
		if err := CheckName(e.Name); err != nil {
			return nil, fail("%s: %v", where, err)
		}
		if j, dup := names[e.Name]; dup {
			return nil, fail("%s: the name is also entry %d's; names must be unique", where, j+1)
		}
		names[e.Name] = i
		d, ok := parseDigest(e.SHA256)
		if !ok {
			return nil, fail("%s: sha256 must be the key's SHA-256 as 64 lowercase hex characters (gateway keys new prints it)", where)
		}
		if j, dup := digests[d]; dup {
			return nil, fail("%s: the same key as entry %d; each key must be listed once", where, j+1)
		}
		digests[d] = i
		if err := CheckScopes(e.Scopes); err != nil {
			return nil, fail("%s: %v", where, err)
		}
		scopes := slices.Clip(slices.Compact(slices.Sorted(slices.Values(e.Scopes))))
		kr.digests = append(kr.digests, d)
		kr.callers = append(kr.callers, Caller{Name: e.Name, Scopes: scopes, Kind: KindAPIKey})
	}
	return kr, nil
}

// entryLines is the line of each entry of the document's keys list.
func entryLines(doc *yaml.Node) []int {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "keys" && m.Content[i+1].Kind == yaml.SequenceNode {
			var lines []int
			for _, e := range m.Content[i+1].Content {
				lines = append(lines, e.Line)
			}
			return lines
		}
	}
	return nil
}

// parseDigest reads 64 lowercase hex characters.
func parseDigest(s string) ([sha256.Size]byte, bool) {
	var d [sha256.Size]byte
	if len(s) != 2*sha256.Size {
		return d, false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return d, false
		}
	}
	if _, err := hex.Decode(d[:], []byte(s)); err != nil {
		return d, false
	}
	return d, true
}
