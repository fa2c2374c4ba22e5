package model

import (
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/twinme/twinme/internal/domain"
)

// The schema's enums are bound to the domain's typed constants (gqlgen.yml):
// each GraphQL value is the constant's stored spelling in upper case (":"
// written "_"), read and written here once. A value outside the enum is
// refused on input, as gqlgen's generated enums do, so it is a
// BAD_USER_INPUT error naming the argument, never a zero value reaching a
// service.

type enum[T ~string] struct {
	name    string
	toGQL   map[T]string
	fromGQL map[string]T
}

func newEnum[T ~string](name string, values ...T) enum[T] {
	e := enum[T]{name: name, toGQL: map[T]string{}, fromGQL: map[string]T{}}
	for _, v := range values {
		g := strings.ToUpper(strings.ReplaceAll(string(v), ":", "_"))
		e.toGQL[v], e.fromGQL[g] = g, v
	}
	return e
}

func (e enum[T]) marshal(v T) graphql.Marshaler {
	g, ok := e.toGQL[v]
	if !ok {
		return graphql.Null // a stored value the schema does not know: an error, never a guess
	}
	return graphql.MarshalString(g)
}

func (e enum[T]) unmarshal(v any) (T, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("enums must be strings")
	}
	t, ok := e.fromGQL[s]
	if !ok {
		return "", fmt.Errorf("%s is not a valid %s", s, e.name)
	}
	return t, nil
}

var (
	platformEnum         = newEnum("Platform", domain.Platforms()...)
	connectionStatusEnum = newEnum("ConnectionStatus", domain.ConnectionConnected, domain.ConnectionTokenExpired, domain.ConnectionNeedsReauth, domain.ConnectionError, domain.ConnectionDisconnected)
	cronStatusEnum       = newEnum("CronStatus", domain.CronSuccess, domain.CronError, domain.CronTimeout, domain.CronSkipped)
	cronTriggerEnum      = newEnum("CronTrigger", domain.TriggerSchedule, domain.TriggerHTTP, domain.TriggerAdmin, domain.TriggerCLI)
	lifeClusterEnum      = newEnum("LifeCluster", domain.ClusterPersonal, domain.ClusterProfessional, domain.ClusterCreative)
	audienceEnum         = newEnum("Audience", domain.Audiences()...)
	roleEnum             = newEnum("Role", domain.RoleUser, domain.RoleAdmin)
	scopeEnum            = newEnum("Scope", domain.ScopeFull, domain.ScopeObserverWrite)
	timeZoneSourceEnum   = newEnum("TimeZoneSource", domain.TimeZoneChosen, domain.TimeZoneExtension, domain.TimeZoneDefault)
	twinRoleEnum         = newEnum("TwinRole", domain.TwinRoleUser, domain.TwinRoleTwin)
	exportStatusEnum     = newEnum("DataExportStatus", domain.ExportPending, domain.ExportRunning, domain.ExportReady, domain.ExportFailed, domain.ExportDownloaded, domain.ExportExpired)
	accessKindEnum       = newEnum("TwinAccessKind", domain.AccessView, domain.AccessConversation, domain.AccessMessage)
	insightSourceEnum    = newEnum("InsightSource", domain.InsightSourcePattern, domain.InsightSourceLLM)
)

func MarshalPlatform(v domain.Platform) graphql.Marshaler { return platformEnum.marshal(v) }
func UnmarshalPlatform(v any) (domain.Platform, error)    { return platformEnum.unmarshal(v) }
func MarshalConnectionStatus(v domain.ConnectionStatus) graphql.Marshaler {
	return connectionStatusEnum.marshal(v)
}
func UnmarshalConnectionStatus(v any) (domain.ConnectionStatus, error) {
	return connectionStatusEnum.unmarshal(v)
}
func MarshalCronStatus(v domain.CronStatus) graphql.Marshaler   { return cronStatusEnum.marshal(v) }
func UnmarshalCronStatus(v any) (domain.CronStatus, error)      { return cronStatusEnum.unmarshal(v) }
func MarshalCronTrigger(v domain.CronTrigger) graphql.Marshaler { return cronTriggerEnum.marshal(v) }
func UnmarshalCronTrigger(v any) (domain.CronTrigger, error)    { return cronTriggerEnum.unmarshal(v) }
func MarshalLifeCluster(v domain.Cluster) graphql.Marshaler     { return lifeClusterEnum.marshal(v) }
func UnmarshalLifeCluster(v any) (domain.Cluster, error)        { return lifeClusterEnum.unmarshal(v) }
func MarshalAudience(v domain.Audience) graphql.Marshaler       { return audienceEnum.marshal(v) }
func UnmarshalAudience(v any) (domain.Audience, error)          { return audienceEnum.unmarshal(v) }
func MarshalRole(v domain.Role) graphql.Marshaler               { return roleEnum.marshal(v) }
func UnmarshalRole(v any) (domain.Role, error)                  { return roleEnum.unmarshal(v) }
func MarshalScope(v domain.Scope) graphql.Marshaler             { return scopeEnum.marshal(v) }
func UnmarshalScope(v any) (domain.Scope, error)                { return scopeEnum.unmarshal(v) }
func MarshalTimeZoneSource(v domain.TimeZoneSource) graphql.Marshaler {
	return timeZoneSourceEnum.marshal(v)
}
func UnmarshalTimeZoneSource(v any) (domain.TimeZoneSource, error) {
	return timeZoneSourceEnum.unmarshal(v)
}
func MarshalTwinRole(v domain.TwinRole) graphql.Marshaler { return twinRoleEnum.marshal(v) }
func UnmarshalTwinRole(v any) (domain.TwinRole, error)    { return twinRoleEnum.unmarshal(v) }
func MarshalDataExportStatus(v domain.ExportStatus) graphql.Marshaler {
	return exportStatusEnum.marshal(v)
}
func UnmarshalDataExportStatus(v any) (domain.ExportStatus, error) {
	return exportStatusEnum.unmarshal(v)
}
func MarshalTwinAccessKind(v domain.AccessKind) graphql.Marshaler { return accessKindEnum.marshal(v) }
func UnmarshalTwinAccessKind(v any) (domain.AccessKind, error)    { return accessKindEnum.unmarshal(v) }
func MarshalInsightSource(v domain.InsightSource) graphql.Marshaler {
	return insightSourceEnum.marshal(v)
}
func UnmarshalInsightSource(v any) (domain.InsightSource, error) {
	return insightSourceEnum.unmarshal(v)
}
