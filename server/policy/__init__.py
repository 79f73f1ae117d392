"""The effective workstation policy: rules/policy.yaml plus the server's overrides."""
