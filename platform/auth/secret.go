package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/learnhub/analytics-service/platform/errs"
)

// secretFile is where LoadOrCreateSecret keeps the dev HS256 secret, relative
// to the data directory.
const secretFile = "secrets/jwt-hs256.key"

// LoadSecret returns the dev HS256 secret kept under dataDir by
// LoadOrCreateSecret; an error matching fs.ErrNotExist when there is none,
// so a CLI never signs with a secret the server does not hold.
func LoadSecret(dataDir string) ([]byte, error) {
	return readSecret(SecretPath(dataDir))
}

// SecretPath is the file holding the dev HS256 secret of dataDir.
func SecretPath(dataDir string) string {
	return filepath.Join(dataDir, filepath.FromSlash(secretFile))
}

// LoadOrCreateSecret returns the HS256 secret kept in
// <dataDir>/secrets/jwt-hs256.key, creating it (32 random bytes, hex, file
// mode 0600 in a 0700 directory) when absent, so dev tokens survive restarts.
// Concurrent first starts agree on one secret.
func LoadOrCreateSecret(dataDir string) ([]byte, error) {
	const op = "auth.LoadOrCreateSecret"
	path := SecretPath(dataDir)
	secret, err := readSecret(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return secret, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errs.Wrap(op, errs.KindInternal, err, "cannot create secrets directory "+dir)
	}
	secret = make([]byte, MinHMACSecretLen)
	if _, err := rand.Read(secret); err != nil {
		return nil, errs.Wrap(op, errs.KindInternal, err, "cannot read random bytes for the HS256 secret")
	}
	// Write a temp file, then link it into place: the link fails if another
	// process got there first, and a crash never leaves a half-written key.
	tmp, err := os.CreateTemp(dir, ".jwt-hs256-*.tmp")
	if err != nil {
		return nil, errs.Wrap(op, errs.KindInternal, err, "cannot write the HS256 secret in "+dir)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	_, werr := tmp.WriteString(hex.EncodeToString(secret) + "\n")
	if werr == nil {
		werr = tmp.Chmod(0o600)
	}
	if werr == nil {
		werr = tmp.Sync()
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, errs.Wrap(op, errs.KindInternal, werr, "cannot write the HS256 secret in "+dir)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readSecret(path)
		}
		return nil, errs.Wrap(op, errs.KindInternal, err, "cannot create "+path)
	}
	return secret, nil
}

// readSecret reads and decodes an existing secret file.
func readSecret(path string) ([]byte, error) {
	const op = "auth.LoadOrCreateSecret"
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, errs.Wrap(op, errs.KindInternal, err, "cannot read "+path)
	}
	secret, err := hex.DecodeString(string(bytes.TrimSpace(b)))
	if err != nil {
		return nil, errs.Wrap(op, errs.KindInternal, err, fmt.Sprintf(
			"%s is not hex; delete it to generate a new secret", path))
	}
	if len(secret) < MinHMACSecretLen {
		return nil, errs.E(op, errs.KindInternal, fmt.Sprintf(
			"%s holds a %d-byte secret; at least %d are needed (%d hex characters): delete it to generate a new one",
			path, len(secret), MinHMACSecretLen, 2*MinHMACSecretLen))
	}
	return secret, nil
}
