// Command check validates the deployment files in deploy/ without a container
// engine or a cluster (neither runs where this project is developed and
// tested): the Kubernetes manifests are decoded strictly into the Kubernetes
// API types (an unknown or misspelt field is an error) and held to the
// operational rules below; the Compose file is loaded by the Compose
// specification's reference loader with schema validation; the Dockerfile is
// held to a few hadolint-style rules. `.ci/run` runs it; it exits 1 on any
// finding.
package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	var findings []string
	report := func(format string, args ...any) { findings = append(findings, fmt.Sprintf(format, args...)) }
	checkKubernetes(filepath.Join(dir, "k8s"), report)
	checkCompose(filepath.Join(dir, "compose.yaml"), report)
	checkDockerfile(filepath.Join(dir, "Dockerfile"), report)
	for _, f := range findings {
		fmt.Fprintln(os.Stderr, "deploy check:", f)
	}
	if len(findings) > 0 {
		os.Exit(1)
	}
	fmt.Println("deploy check: Kubernetes manifests, compose.yaml and Dockerfile OK")
}

type kustomization struct {
	Resources []string `json:"resources"`
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

func checkKubernetes(dir string, report func(string, ...any)) {
	raw, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		report("k8s: %v", err)
		return
	}
	var k kustomization
	if err := yaml.Unmarshal(raw, &k); err != nil {
		report("k8s/kustomization.yaml: %v", err)
		return
	}
	var deployments []appsv1.Deployment
	var pdbs []policyv1.PodDisruptionBudget
	for _, res := range k.Resources {
		b, err := os.ReadFile(filepath.Join(dir, res))
		if err != nil {
			report("k8s: resource %s: %v", res, err)
			continue
		}
		for i, doc := range bytes.Split(b, []byte("\n---\n")) {
			var tm typeMeta
			if err := yaml.Unmarshal(doc, &tm); err != nil || tm.Kind == "" {
				report("k8s/%s doc %d: no kind (%v)", res, i+1, err)
				continue
			}
			where := fmt.Sprintf("k8s/%s %s", res, tm.Kind)
			var obj any
			switch tm.APIVersion + "/" + tm.Kind {
			case "apps/v1/Deployment":
				obj = &appsv1.Deployment{}
			case "policy/v1/PodDisruptionBudget":
				obj = &policyv1.PodDisruptionBudget{}
			case "v1/Service":
				obj = &corev1.Service{}
			case "v1/ConfigMap":
				obj = &corev1.ConfigMap{}
			case "v1/Namespace":
				obj = &corev1.Namespace{}
			case "batch/v1/Job":
				obj = &batchv1.Job{}
			case "autoscaling/v2/HorizontalPodAutoscaler":
				obj = &autoscalingv2.HorizontalPodAutoscaler{}
			default:
				report("%s: apiVersion %s is not one this check knows; add it", where, tm.APIVersion)
				continue
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				report("%s: %v", where, err)
				continue
			}
			switch o := obj.(type) {
			case *appsv1.Deployment:
				deployments = append(deployments, *o)
			case *policyv1.PodDisruptionBudget:
				pdbs = append(pdbs, *o)
			case *batchv1.Job:
				checkPod(where, o.Spec.Template.Spec, false, report)
			}
		}
	}
	if len(deployments) != 3 {
		report("k8s: want the three roles serve, work, ingest as Deployments, found %d", len(deployments))
	}
	for _, d := range deployments {
		where := "k8s Deployment " + d.Name
		if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
			report("%s: run at least 2 replicas", where)
		}
		checkPod(where, d.Spec.Template.Spec, true, report)
		covered := false
		for _, p := range pdbs {
			if p.Spec.Selector != nil && subset(p.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
				covered = true
			}
		}
		if !covered {
			report("%s: no PodDisruptionBudget selects its pods", where)
		}
		if !subset(d.Spec.Selector.MatchLabels, d.Spec.Template.Labels) {
			report("%s: selector does not match the pod template's labels", where)
		}
	}
}

func checkPod(where string, spec corev1.PodSpec, probes bool, report func(string, ...any)) {
	if spec.SecurityContext == nil || spec.SecurityContext.RunAsNonRoot == nil || !*spec.SecurityContext.RunAsNonRoot {
		report("%s: pod must set securityContext.runAsNonRoot: true", where)
	}
	for _, c := range spec.Containers {
		cw := where + " container " + c.Name
		if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
			report("%s: set cpu and memory requests and a memory limit", cw)
		}
		if probes && (c.LivenessProbe == nil || c.ReadinessProbe == nil) {
			report("%s: needs liveness and readiness probes (/healthz, /readyz)", cw)
		}
		if probes && c.ReadinessProbe != nil && (c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz") {
			report("%s: readiness must probe /readyz", cw)
		}
		if c.SecurityContext == nil || c.SecurityContext.ReadOnlyRootFilesystem == nil || !*c.SecurityContext.ReadOnlyRootFilesystem ||
			c.SecurityContext.AllowPrivilegeEscalation == nil || *c.SecurityContext.AllowPrivilegeEscalation {
			report("%s: set readOnlyRootFilesystem: true and allowPrivilegeEscalation: false", cw)
		}
		if strings.Contains(c.Image, ":latest") {
			report("%s: pin the image, not :latest", cw)
		}
	}
}

func subset(want, have map[string]string) bool {
	if len(want) == 0 {
		return false
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

func checkCompose(path string, report func(string, ...any)) {
	b, err := os.ReadFile(path)
	if err != nil {
		report("compose: %v", err)
		return
	}
	env := map[string]string{
		"CLICKHOUSE_CLUSTER_SECRET": "x", "CLICKHOUSE_ANALYTICS_PASSWORD_SHA256": "x", "CLICKHOUSE_ANALYTICS_PASSWORD": "x",
		"MINIO_ROOT_USER": "x", "MINIO_ROOT_PASSWORD": "x",
	}
	project, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  filepath.Dir(path),
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: b}},
		Environment: env,
	}, func(o *loader.Options) {
		o.SetProjectName("analytics", true)
		o.SkipResolveEnvironment = true
		o.ResolvePaths = false
	})
	if err != nil {
		report("compose.yaml: %v", err)
		return
	}
	want := map[string]int{"serve": 2, "work": 2, "ingest": 2}
	for name, n := range want {
		s, ok := project.Services[name]
		if !ok {
			report("compose.yaml: no %s service", name)
			continue
		}
		if s.Deploy == nil || s.Deploy.Replicas == nil || *s.Deploy.Replicas != n {
			report("compose.yaml: %s wants deploy.replicas: %d", name, n)
		}
	}
	var ch, nats, keeper int
	for name := range project.Services {
		switch {
		case strings.HasPrefix(name, "ch-s"):
			ch++
		case strings.HasPrefix(name, "nats-"):
			nats++
		case strings.HasPrefix(name, "keeper-"):
			keeper++
		}
	}
	if ch != 4 || nats != 3 || keeper != 3 {
		report("compose.yaml: want 4 ClickHouse nodes (2 shards × 2 replicas), 3 NATS and 3 Keeper nodes; found %d, %d, %d", ch, nats, keeper)
	}
	for _, name := range []string{"kafka", "redis", "minio"} {
		if _, ok := project.Services[name]; !ok {
			report("compose.yaml: no %s service", name)
		}
	}
}

var fromRe = regexp.MustCompile(`(?im)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?`)

func checkDockerfile(path string, report func(string, ...any)) {
	b, err := os.ReadFile(path)
	if err != nil {
		report("Dockerfile: %v", err)
		return
	}
	s := string(b)
	froms := fromRe.FindAllStringSubmatch(s, -1)
	if len(froms) < 2 {
		report("Dockerfile: want a multi-stage build")
	}
	for _, f := range froms {
		img := f[1]
		if !strings.Contains(img, ":") && !strings.HasPrefix(img, "$") {
			report("Dockerfile: FROM %s: pin a tag (hadolint DL3006)", img)
		}
		if strings.HasSuffix(img, ":latest") {
			report("Dockerfile: FROM %s: do not use :latest (DL3007)", img)
		}
	}
	// Each final target runs as a numeric non-root user.
	stages := regexp.MustCompile(`(?im)^FROM\s`).Split(s, -1)
	for _, name := range []string{"server", "embedded"} {
		found := false
		for _, st := range stages {
			if regexp.MustCompile(`(?i)^\S+\s+AS\s+` + name + `\s*\n`).MatchString(st) {
				found = true
				if !regexp.MustCompile(`(?m)^USER\s+[1-9][0-9]*(:[0-9]+)?\s*$`).MatchString(st) {
					report("Dockerfile: stage %s must switch to a numeric non-root USER", name)
				}
			}
		}
		if !found {
			report("Dockerfile: no stage %s", name)
		}
	}
	if regexp.MustCompile(`(?m)^ADD\s+https?://`).MatchString(s) {
		report("Dockerfile: ADD of a URL; use curl with a checksum (DL3020)")
	}
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "apt-get install") && !strings.Contains(line, "--no-install-recommends") {
			report("Dockerfile: apt-get install without --no-install-recommends (DL3015)")
		}
	}
}
