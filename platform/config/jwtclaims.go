package config

// JWTClaimNames say where tokens carry the tenant and the roles; empty
// fields mean the defaults of package auth (top-level "tenant", "roles").
type JWTClaimNames struct {
	Namespace string // ANALYTICS_JWT_CLAIMS_NAMESPACE, e.g. "https://hasura.io/jwt/claims"
	Tenant    string // ANALYTICS_JWT_TENANT_CLAIM
	Roles     string // ANALYTICS_JWT_ROLES_CLAIM
}

func jwtClaimNames(env func(k, def string) string) JWTClaimNames {
	return JWTClaimNames{
		Namespace: env("ANALYTICS_JWT_CLAIMS_NAMESPACE", ""),
		Tenant:    env("ANALYTICS_JWT_TENANT_CLAIM", ""),
		Roles:     env("ANALYTICS_JWT_ROLES_CLAIM", ""),
	}
}
