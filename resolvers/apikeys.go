package resolvers

import (
	"github.com/learnhub/analytics-service/apikeys"
	"github.com/learnhub/analytics-service/graph/model"
	"github.com/learnhub/analytics-service/platform/auth"
)

// toModelAPIKey maps a key (never its secret or hash).
func toModelAPIKey(k apikeys.Key) *model.APIKey {
	return &model.APIKey{ID: k.ID, Name: k.Name, Role: toModelRoles([]auth.Role{k.Role})[0], Revoked: k.Revoked,
		CreatedAt: k.CreatedAt, CreatedBy: k.CreatedBy}
}
