//! TLS for every outgoing HTTPS call: the AWS SDK, Cloopen and the captcha
//! providers all use rustls on ring. The SDK's default client and reqwest's
//! default provider would link aws-lc, the larger of rustls's two providers;
//! one provider, chosen here, keeps each function's binary lean (issue 11).

/// Makes ring the process's rustls provider, which reqwest clients built
/// afterwards use. Idempotent: a provider already installed stays.
pub fn install_provider() {
    // Err only means a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
