package main

import "github.com/learnhub/analytics-service/apikeys"

// openAPIKeys puts API keys (Bearer ak_…) in front of the JWT verifier
// chain: the same auth middleware then accepts both. Every replica reads
// the same api_keys table and trusts a looked-up key for at most
// apikeys.DefaultCacheTTL, so a revocation holds everywhere within 2 s.
func (a *app) openAPIKeys() {
	a.apiKeys = apikeys.NewService(a.db)
	a.verifier = &apikeys.Verifier{Keys: a.apiKeys, Next: a.verifier}
}
