// Package deploy holds no code: its tests check the deployment files next to
// it. They parse every manifest of kubernetes/ and every manifest the Helm
// chart helm/milvault renders (helm lint, helm template against golden files
// in helm/testdata, regenerated with go test ./deploy/ -update), and check the
// fields that matter: the image, the arguments, that every Secret and
// ConfigMap reference resolves, the probes on /healthz and /readyz, resource
// limits and a non-root security context. They also check that the
// PrometheusRule objects carry exactly the rules of
// prometheus/milvault-rules.yaml, that the service configuration in the
// ConfigMaps parses, and the Dockerfile (and build the image where a Docker
// daemon runs).
package deploy
