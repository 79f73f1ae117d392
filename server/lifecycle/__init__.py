"""Device and media lifecycle: states with who/when/why, sanitization records (NIST SP
800-88), lost/stolen incidents with a breach assessment draft, and the receipt-and-removal
log (HIPAA 164.310(d))."""
