package enforce

import "testing"

// installedConfig is config.yaml as hack/install.sh writes it, pinned by
// `guard-runtime pin`: what every runtime call decodes.
const installedConfig = `# guard-runtime configuration; see the README.
runtime:
  # The real OCI runtime that admitted containers are handed to. Its
  # sha256 is pinned by 'guard-runtime pin'; after a runc upgrade, run:
  #   guard-runtime --guard-config /etc/guard-runtime/config.yaml pin
  path: /usr/sbin/runc
  sha256: 5a8d8a4ed3fbc4b7ec2eb2ed8f25b5bbbd2e0a4d8b5ab2a6a8a1a4b5c3e0e9f1
policy:
  dir: /etc/guard-runtime/policy.d
  default: restricted
`

// BenchmarkParseConfig decodes the installed config.yaml, as every runtime
// call does before it verifies the runtime.
func BenchmarkParseConfig(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseConfig([]byte(installedConfig)); err != nil {
			b.Fatal(err)
		}
	}
}
