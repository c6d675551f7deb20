package telemetry

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
)

// resourceOf describes the process to the tracing backend.
func resourceOf(attrs []attribute.KeyValue) *resource.Resource {
	return resource.NewSchemaless(attrs...)
}
