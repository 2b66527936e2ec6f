// Package kubernetes checks the manifests of contrib/kubernetes against the
// Kubernetes API types: each document is decoded strictly (an unknown or
// misspelt field, a value of the wrong type, is an error), which is what
// the API server's schema would refuse, and then against what freqd needs
// of them. It is a module of its own so that the server does not depend
// on the Kubernetes libraries.
package kubernetes

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"
)

func TestManifests(t *testing.T) {
	b, err := os.ReadFile("freqd.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var deploy *appsv1.Deployment
	var svc *corev1.Service
	kinds := map[string]bool{}
	for i, doc := range bytes.Split(b, []byte("\n---\n")) {
		var head struct{ APIVersion, Kind string }
		if err := yaml.Unmarshal(doc, &head); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
		var obj any
		switch head.APIVersion + " " + head.Kind {
		case "v1 Secret":
			obj = &corev1.Secret{}
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "apps/v1 Deployment":
			deploy = &appsv1.Deployment{}
			obj = deploy
		case "v1 Service":
			svc = &corev1.Service{}
			obj = svc
		case "policy/v1 PodDisruptionBudget":
			obj = &policyv1.PodDisruptionBudget{}
		default:
			t.Fatalf("document %d: unexpected %s %s", i, head.APIVersion, head.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Errorf("document %d (%s): %v", i, head.Kind, err)
		}
		kinds[head.Kind] = true
	}
	for _, k := range []string{"Deployment", "Service", "Secret", "ConfigMap", "PodDisruptionBudget"} {
		if !kinds[k] {
			t.Errorf("no %s in freqd.yaml", k)
		}
	}
	if deploy == nil || svc == nil {
		t.FailNow()
	}
	c := deploy.Spec.Template.Spec.Containers[0]
	args := map[string]string{}
	for _, a := range c.Args[1:] {
		k, v, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		args[k] = v
	}
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	// The probes ask freqd's health endpoints on its metrics address.
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" || p.HTTPGet.Port.String() != "metrics" {
		t.Errorf("readiness probe %+v: want GET /readyz on the metrics port", p)
	}
	if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/livez" {
		t.Errorf("liveness probe %+v: want GET /livez", p)
	}
	if !strings.HasSuffix(args["metrics-listen"], ":9121") || ports["metrics"] != 9121 {
		t.Errorf("--metrics-listen %q and the metrics port %d disagree", args["metrics-listen"], ports["metrics"])
	}
	if !strings.HasSuffix(args["listen"], ":7379") || ports["redis"] != 7379 {
		t.Errorf("--listen %q and the redis port %d disagree", args["listen"], ports["redis"])
	}
	// A non-loopback listener needs a password (protected mode).
	if args["requirepass-file"] == "" {
		t.Errorf("freqd listens on all interfaces without --requirepass-file: protected mode refuses that")
	}
	// The grace period covers the delay and the drain.
	delay, err1 := time.ParseDuration(args["shutdown-delay"])
	drain, err2 := time.ParseDuration(args["shutdown-timeout"])
	grace := deploy.Spec.Template.Spec.TerminationGracePeriodSeconds
	if err1 != nil || err2 != nil || grace == nil || time.Duration(*grace)*time.Second < delay+drain+5*time.Second {
		t.Errorf("terminationGracePeriodSeconds %v does not cover --shutdown-delay %q + --shutdown-timeout %q", grace, args["shutdown-delay"], args["shutdown-timeout"])
	}
	// The readiness probe notices within the delay.
	if p := c.ReadinessProbe; p != nil && time.Duration(p.PeriodSeconds*p.FailureThreshold)*time.Second >= delay {
		t.Errorf("the readiness probe needs %ds to see a failure, more than --shutdown-delay %v", p.PeriodSeconds*p.FailureThreshold, delay)
	}
	if len(deploy.Spec.Template.Spec.InitContainers) == 0 || deploy.Spec.Template.Spec.InitContainers[0].Args[0] != "build" {
		t.Errorf("no init container runs freqd build")
	}
	if svc.Spec.Ports[0].TargetPort.String() != "redis" {
		t.Errorf("the Service does not target the redis port")
	}
}
