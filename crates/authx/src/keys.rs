//! Signing and verifying keys: algorithms, PEM loading, `kid`, previous keys
//! for rotation, and JWKS export.
//!
//! Keys are parsed once, when [`AuthX`](crate::AuthX) is built, into
//! prepared `aws-lc-rs` key objects (the same backend `jsonwebtoken` uses).
//! We call `aws-lc-rs` directly rather than `jsonwebtoken::crypto::verify`
//! because the latter rebuilds the key and a boxed verifier on every call,
//! and its verifier objects are not `Send + Sync`, so they cannot be kept.
//! No MAC or signature arithmetic is written here: only the choice of
//! primitive per algorithm.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self as sig, KeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{Error, Result};

/// Longest `kid` we sign with or look up (K1).
pub(crate) const MAX_KID_LEN: usize = 256;

/// A JWS algorithm.
///
/// ```
/// use authx::Algorithm;
/// let alg: Algorithm = "ES256".parse().unwrap();
/// assert_eq!(alg.as_str(), "ES256");
/// assert!("none".parse::<Algorithm>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256.
    #[default]
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// ECDSA on P-384 with SHA-384.
    ES384,
    /// ECDSA on P-521 with SHA-512.
    ES512,
    /// Ed25519.
    EdDSA,
}

impl Algorithm {
    /// All supported algorithms.
    pub const ALL: [Self; 13] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::ES512,
        Self::EdDSA,
    ];

    /// The `alg` header value.
    ///
    /// ```
    /// assert_eq!(authx::Algorithm::EdDSA.as_str(), "EdDSA");
    /// ```
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::ES512 => "ES512",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Whether this is an HMAC algorithm (shared secret).
    ///
    /// ```
    /// assert!(authx::Algorithm::HS512.is_hmac());
    /// ```
    #[must_use]
    pub const fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    /// Exact, case-sensitive match of an `alg` value (A2).
    pub(crate) fn from_alg(alg: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == alg)
    }

    fn hmac_algorithm(self) -> Option<(hmac::Algorithm, usize)> {
        match self {
            Self::HS256 => Some((hmac::HMAC_SHA256, 32)),
            Self::HS384 => Some((hmac::HMAC_SHA384, 48)),
            Self::HS512 => Some((hmac::HMAC_SHA512, 64)),
            _ => None,
        }
    }

    fn verification(self) -> Option<&'static dyn sig::VerificationAlgorithm> {
        Some(match self {
            Self::RS256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Self::RS384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Self::RS512 => &sig::RSA_PKCS1_2048_8192_SHA512,
            Self::PS256 => &sig::RSA_PSS_2048_8192_SHA256,
            Self::PS384 => &sig::RSA_PSS_2048_8192_SHA384,
            Self::PS512 => &sig::RSA_PSS_2048_8192_SHA512,
            Self::ES256 => &sig::ECDSA_P256_SHA256_FIXED,
            Self::ES384 => &sig::ECDSA_P384_SHA384_FIXED,
            Self::ES512 => &sig::ECDSA_P521_SHA512_FIXED,
            Self::EdDSA => &sig::ED25519,
            Self::HS256 | Self::HS384 | Self::HS512 => return None,
        })
    }

    /// Exact signature length, where the algorithm fixes one (A7).
    pub(crate) fn signature_len(self) -> Option<usize> {
        match self {
            Self::HS256 => Some(32),
            Self::HS384 => Some(48),
            Self::HS512 => Some(64),
            Self::ES256 | Self::EdDSA => Some(64),
            Self::ES384 => Some(96),
            Self::ES512 => Some(132),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_alg(s)
            .ok_or_else(|| Error::config(format!("algorithm: unknown algorithm {s:?}")))
    }
}

pub(crate) fn check_kid(option: &str, kid: &str) -> Result<()> {
    if kid.is_empty() || kid.len() > MAX_KID_LEN || kid.bytes().any(|b| b.is_ascii_control()) {
        return Err(Error::config(format!(
            "{option}: must be 1 to {MAX_KID_LEN} printable characters"
        )));
    }
    Ok(())
}

enum SignerKind {
    Hmac(Box<hmac::Key>),
    Rsa(sig::RsaKeyPair, &'static dyn sig::RsaEncoding),
    Ecdsa(sig::EcdsaKeyPair),
    Ed(sig::Ed25519KeyPair),
}

/// The key tokens are signed with, prepared once.
pub(crate) struct Signer {
    alg: Algorithm,
    kid: Option<String>,
    kind: SignerKind,
    rng: SystemRandom,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer {
    pub(crate) fn alg(&self) -> Algorithm {
        self.alg
    }

    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let failed = || Error::config("signing failed");
        Ok(match &self.kind {
            SignerKind::Hmac(key) => hmac::sign(key, message).as_ref().to_vec(),
            SignerKind::Rsa(key, encoding) => {
                let mut out = vec![0; key.public_modulus_len()];
                key.sign(*encoding, &self.rng, message, &mut out)
                    .map_err(|_| failed())?;
                out
            }
            SignerKind::Ecdsa(key) => key
                .sign(&self.rng, message)
                .map_err(|_| failed())?
                .as_ref()
                .to_vec(),
            SignerKind::Ed(key) => key.sign(message).as_ref().to_vec(),
        })
    }

    /// The verifier matching this signing key.
    fn verifier(&self) -> Result<Verifier> {
        let kind = match &self.kind {
            SignerKind::Hmac(key) => VerifierKind::Hmac(key.clone()),
            SignerKind::Rsa(key, _) => public_key(self.alg, key.public_key().as_ref())?,
            SignerKind::Ecdsa(key) => public_key(self.alg, key.public_key().as_ref())?,
            SignerKind::Ed(key) => public_key(self.alg, key.public_key().as_ref())?,
        };
        Ok(Verifier {
            alg: self.alg,
            kid: self.kid.clone(),
            kind,
        })
    }
}

enum VerifierKind {
    Hmac(Box<hmac::Key>),
    Public(sig::ParsedPublicKey),
}

/// A key tokens are verified with, prepared once, bound to one algorithm (A1).
pub(crate) struct Verifier {
    alg: Algorithm,
    kid: Option<String>,
    kind: VerifierKind,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// Verifies `signature` over `message`; constant time for HMAC (A6).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.kind {
            VerifierKind::Hmac(key) => hmac::verify(key, message, signature).is_ok(),
            VerifierKind::Public(key) => key.verify_sig(message, signature).is_ok(),
        }
    }
}

fn public_key(alg: Algorithm, bytes: &[u8]) -> Result<VerifierKind> {
    let Some(va) = alg.verification() else {
        return Err(Error::config(format!(
            "algorithm: {alg} is not a public-key algorithm"
        )));
    };
    sig::ParsedPublicKey::new(va, bytes)
        .map(VerifierKind::Public)
        .map_err(|e| Error::config(format!("public_key: not a valid {alg} public key ({e})")))
}

fn pem_der(option: &str, pem_text: &str) -> Result<pem::Pem> {
    pem::parse(pem_text.trim()).map_err(|_| Error::config(format!("{option}: not a PEM document")))
}

fn hmac_key(
    option: &str,
    alg: Algorithm,
    secret: &[u8],
    allow_weak: bool,
) -> Result<Box<hmac::Key>> {
    let Some((halg, min)) = alg.hmac_algorithm() else {
        return Err(Error::config(format!(
            "algorithm: {alg} is not an HMAC algorithm"
        )));
    };
    if secret.is_empty() {
        return Err(Error::config(format!("{option}: must not be empty")));
    }
    if secret.len() < min && !allow_weak {
        return Err(Error::config(format!(
            "{option}: {alg} needs a secret of at least {min} bytes, got {} \
             (dangerous_allow_weak_secret exists for local development only)",
            secret.len()
        )));
    }
    Ok(Box::new(hmac::Key::new(halg, secret)))
}

fn private_key(alg: Algorithm, pem_text: &str) -> Result<SignerKind> {
    let pem = pem_der("private_key", pem_text)?;
    let der = pem.contents();
    let bad = |what: &str| {
        Error::config(format!(
            "private_key: not a valid {alg} private key ({what})"
        ))
    };
    Ok(match alg {
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => {
            let key = sig::RsaKeyPair::from_pkcs8(der)
                .or_else(|_| sig::RsaKeyPair::from_der(der))
                .map_err(|e| bad(&e.to_string()))?;
            if key.public_modulus_len() < 256 {
                return Err(Error::config(
                    "private_key: RSA keys must be at least 2048 bits",
                ));
            }
            let encoding: &'static dyn sig::RsaEncoding = match alg {
                Algorithm::RS256 => &sig::RSA_PKCS1_SHA256,
                Algorithm::RS384 => &sig::RSA_PKCS1_SHA384,
                Algorithm::RS512 => &sig::RSA_PKCS1_SHA512,
                Algorithm::PS256 => &sig::RSA_PSS_SHA256,
                Algorithm::PS384 => &sig::RSA_PSS_SHA384,
                _ => &sig::RSA_PSS_SHA512,
            };
            SignerKind::Rsa(key, encoding)
        }
        Algorithm::ES256 | Algorithm::ES384 | Algorithm::ES512 => {
            let signing = match alg {
                Algorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
                Algorithm::ES384 => &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
                _ => &sig::ECDSA_P521_SHA512_FIXED_SIGNING,
            };
            let key = sig::EcdsaKeyPair::from_pkcs8(signing, der)
                .or_else(|_| sig::EcdsaKeyPair::from_private_key_der(signing, der))
                .map_err(|e| bad(&e.to_string()))?;
            SignerKind::Ecdsa(key)
        }
        Algorithm::EdDSA => {
            let key = sig::Ed25519KeyPair::from_pkcs8(der)
                .or_else(|_| sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der))
                .map_err(|e| bad(&e.to_string()))?;
            SignerKind::Ed(key)
        }
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            return Err(Error::config(format!(
                "algorithm: {alg} takes secret_key, not private_key"
            )));
        }
    })
}

fn public_pem(option: &str, alg: Algorithm, pem_text: &str) -> Result<VerifierKind> {
    let pem = pem_der(option, pem_text)?;
    public_key(alg, pem.contents())
        .map_err(|_| Error::config(format!("{option}: not a valid {alg} public key")))
}

/// Every key of one [`AuthX`](crate::AuthX): the signer and the verifiers.
pub(crate) struct KeySet {
    pub(crate) signer: Option<Signer>,
    pub(crate) verifiers: Vec<Verifier>,
    /// Public keys for JWKS export (no HMAC keys).
    jwks: Vec<serde_json::Value>,
}

impl fmt::Debug for KeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySet")
            .field("signer", &self.signer)
            .field("verifiers", &self.verifiers)
            .finish_non_exhaustive()
    }
}

impl KeySet {
    pub(crate) fn from_config(c: &crate::AuthXConfig) -> Result<Self> {
        let alg = c.algorithm;
        let mut verifiers = Vec::new();
        let mut jwks = Vec::new();
        let signer = if alg.is_hmac() {
            if c.private_key.is_some() {
                return Err(Error::config(format!(
                    "private_key: algorithm {alg} uses secret_key; remove private_key"
                )));
            }
            match &c.secret_key {
                Some(secret) => {
                    let key = hmac_key(
                        "secret_key",
                        alg,
                        secret.expose().as_bytes(),
                        c.dangerous_allow_weak_secret,
                    )?;
                    Some(Signer {
                        alg,
                        kid: c.kid.clone(),
                        kind: SignerKind::Hmac(key),
                        rng: SystemRandom::new(),
                    })
                }
                // Verify-only, with the keys of `jwks`.
                None if c.jwks.is_some() => None,
                None => {
                    return Err(Error::config(format!(
                        "secret_key: algorithm {alg} requires secret_key (JWT_SECRET_KEY)"
                    )));
                }
            }
        } else {
            if c.secret_key.is_some() {
                return Err(Error::config(format!(
                    "secret_key: algorithm {alg} uses private_key/public_key; remove secret_key"
                )));
            }
            match &c.private_key {
                Some(pem) => Some(Signer {
                    alg,
                    kid: c.kid.clone(),
                    kind: private_key(alg, pem.expose())?,
                    rng: SystemRandom::new(),
                }),
                None if c.public_key.is_some() || c.jwks.is_some() => None,
                None => {
                    return Err(Error::config(format!(
                        "private_key: algorithm {alg} requires private_key or public_key"
                    )));
                }
            }
        };

        // The current key verifies for every accepted algorithm of its
        // family; each verifier is bound to exactly one algorithm (A1).
        for dalg in c.verify_algorithms() {
            if alg.is_hmac() {
                let Some(secret) = &c.secret_key else {
                    continue;
                };
                let key = hmac_key(
                    "secret_key",
                    dalg,
                    secret.expose().as_bytes(),
                    c.dangerous_allow_weak_secret,
                )?;
                verifiers.push(Verifier {
                    alg: dalg,
                    kid: c.kid.clone(),
                    kind: VerifierKind::Hmac(key),
                });
            } else if let Some(pem) = &c.public_key {
                let kind = public_pem("public_key", dalg, pem)?;
                verifiers.push(Verifier {
                    alg: dalg,
                    kid: c.kid.clone(),
                    kind,
                });
            } else if let Some(s) = signer.as_ref().filter(|s| s.alg == dalg) {
                verifiers.push(s.verifier()?);
            } else if c.jwks.is_none() {
                return Err(Error::config(format!(
                    "decode_algorithms: {dalg} has no key (set public_key)"
                )));
            }
        }
        for dalg in c.verify_algorithms() {
            if alg.is_hmac() {
                if let Some(secret) = &c.previous_secret_key {
                    let key = hmac_key(
                        "previous_secret_key",
                        dalg,
                        secret.expose().as_bytes(),
                        c.dangerous_allow_weak_secret,
                    )?;
                    verifiers.push(Verifier {
                        alg: dalg,
                        kid: c.previous_kid.clone(),
                        kind: VerifierKind::Hmac(key),
                    });
                }
            } else if let Some(pem) = &c.previous_public_key {
                let kind = public_pem("previous_public_key", dalg, pem)?;
                verifiers.push(Verifier {
                    alg: dalg,
                    kid: c.previous_kid.clone(),
                    kind,
                });
            }
        }
        if let Some(doc) = &c.jwks {
            verifiers.extend(jwks_verifiers(doc, c)?);
        }
        if verifiers.is_empty() {
            return Err(Error::config(
                "jwks: no key in the set can verify an accepted algorithm",
            ));
        }
        for (i, v) in verifiers.iter().enumerate() {
            if v.kid.is_some()
                && verifiers[..i]
                    .iter()
                    .any(|w| w.kid == v.kid && w.alg == v.alg)
            {
                return Err(Error::config(format!(
                    "jwks: kid {:?} names two keys",
                    v.kid.as_deref().unwrap_or_default()
                )));
            }
        }
        if c.previous_secret_key.is_some() && !alg.is_hmac() {
            return Err(Error::config(
                "previous_secret_key: only for HMAC algorithms",
            ));
        }
        if c.previous_public_key.is_some() && alg.is_hmac() {
            return Err(Error::config(
                "previous_public_key: only for public-key algorithms",
            ));
        }

        if !alg.is_hmac() {
            let mut seen: Vec<(Option<&str>, Algorithm)> = Vec::new();
            for v in &verifiers {
                if let VerifierKind::Public(key) = &v.kind {
                    if seen.contains(&(v.kid.as_deref(), v.alg)) && v.kid.is_some() {
                        continue;
                    }
                    seen.push((v.kid.as_deref(), v.alg));
                    if let Some(jwk) = jwk(v.alg, v.kid.as_deref(), key.as_ref()) {
                        jwks.push(jwk);
                    }
                }
            }
        }
        Ok(Self {
            signer,
            verifiers,
            jwks,
        })
    }

    /// Finds the verifiers for a token's `alg` and `kid` (K1): with a `kid`,
    /// exactly the keys of that `kid`; without, every key of that algorithm,
    /// current first.
    pub(crate) fn candidates<'a>(
        &'a self,
        alg: Algorithm,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Verifier> + 'a {
        self.verifiers.iter().filter(move |v| {
            v.alg == alg
                && match (kid, v.kid.as_deref()) {
                    (Some(want), Some(have)) => want == have,
                    (Some(_), None) => false,
                    (None, _) => true,
                }
        })
    }

    pub(crate) fn allows(&self, alg: Algorithm) -> bool {
        self.verifiers.iter().any(|v| v.alg == alg)
    }

    pub(crate) fn has_kid(&self, kid: &str) -> bool {
        self.verifiers.iter().any(|v| v.kid.as_deref() == Some(kid))
    }

    pub(crate) fn jwks(&self) -> serde_json::Value {
        serde_json::json!({ "keys": self.jwks })
    }
}

/// Verifiers from a JWKS document (see `AuthXConfig::jwks`).
fn jwks_verifiers(doc: &str, c: &crate::AuthXConfig) -> Result<Vec<Verifier>> {
    let bad = |why: &str| Error::config(format!("jwks: {why}"));
    let set: serde_json::Value =
        serde_json::from_str(doc).map_err(|_| bad("not a JSON document"))?;
    let keys = set
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or_else(|| bad("no \"keys\" array"))?;
    let accepted = c.verify_algorithms();
    let mut out = Vec::new();
    let (mut hmac_seen, mut public_seen) = (false, false);
    for key in keys {
        let str_of = |name: &str| key.get(name).and_then(|v| v.as_str());
        let kty = str_of("kty").ok_or_else(|| bad("a key has no \"kty\""))?;
        match kty {
            "oct" => hmac_seen = true,
            "RSA" | "EC" | "OKP" => public_seen = true,
            _ => continue,
        }
        if hmac_seen && public_seen {
            return Err(bad("mixes HMAC and public keys"));
        }
        if str_of("use").is_some_and(|u| u != "sig") {
            continue;
        }
        if let Some(ops) = key.get("key_ops") {
            let verify = ops
                .as_array()
                .is_some_and(|a| a.iter().any(|o| o.as_str() == Some("verify")));
            if !verify {
                continue;
            }
        }
        let kid = match key.get("kid") {
            None => None,
            Some(serde_json::Value::String(k)) => {
                check_kid("jwks kid", k)?;
                Some(k.clone())
            }
            Some(_) => return Err(bad("kid must be a string")),
        };
        let b64 = |name: &str| -> Result<Vec<u8>> {
            let v = str_of(name).ok_or_else(|| bad(&format!("{kty} key without \"{name}\"")))?;
            URL_SAFE_NO_PAD
                .decode(v)
                .map_err(|_| bad(&format!("\"{name}\" is not base64url")))
        };
        let curve_alg = match (kty, str_of("crv")) {
            ("EC", Some("P-256")) => Some(Algorithm::ES256),
            ("EC", Some("P-384")) => Some(Algorithm::ES384),
            ("EC", Some("P-521")) => Some(Algorithm::ES512),
            ("OKP", Some("Ed25519")) => Some(Algorithm::EdDSA),
            ("EC" | "OKP", _) => return Err(bad("unsupported curve")),
            _ => None,
        };
        // A key is bound to exactly one algorithm (A1): its `alg` member,
        // else its curve, else the configured algorithm. "ES521" (RFC 7520's
        // spelling) is read as ES512 on a P-521 key; a key labelled with any
        // other algorithm we do not support (A256GCM, ES224, ...) is left out.
        let declared = match str_of("alg") {
            None => None,
            Some("ES521") if curve_alg == Some(Algorithm::ES512) => Some(Algorithm::ES512),
            Some(a) => match Algorithm::from_alg(a) {
                Some(a) => Some(a),
                None => continue,
            },
        };
        let alg = match (declared, curve_alg) {
            (Some(a), Some(cv)) if a != cv => continue,
            (Some(a), _) => a,
            (None, Some(cv)) => cv,
            (None, None) => c.algorithm,
        };
        let kty_fits = match kty {
            "oct" => alg.is_hmac(),
            "RSA" => !alg.is_hmac() && alg.signature_len().is_none(),
            _ => true,
        };
        if !kty_fits {
            continue;
        }
        if !accepted.contains(&alg) {
            continue;
        }
        let kind = match kty {
            "oct" => VerifierKind::Hmac(hmac_key(
                "jwks",
                alg,
                &b64("k")?,
                c.dangerous_allow_weak_secret,
            )?),
            "RSA" => {
                let n = b64("n")?;
                let e = b64("e")?;
                if strip_zeros(&n).len() < 256 {
                    return Err(bad("RSA keys must be at least 2048 bits"));
                }
                public_key(alg, &rsa_public_der(strip_zeros(&n), strip_zeros(&e)))?
            }
            "EC" => {
                let (x, y) = (b64("x")?, b64("y")?);
                let mut point = Vec::with_capacity(1 + x.len() + y.len());
                point.push(4);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                public_key(alg, &point)?
            }
            _ => public_key(alg, &b64("x")?)?,
        };
        out.push(Verifier { alg, kid, kind });
    }
    Ok(out)
}

/// DER of RSAPublicKey (RFC 8017 A.1.1), for aws-lc-rs, which takes RSA
/// public keys as DER rather than as (n, e). Hand-written: two INTEGERs in
/// a SEQUENCE, not worth an ASN.1 dependency.
fn rsa_public_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn len(out: &mut Vec<u8>, l: usize) {
        if l < 0x80 {
            out.push(l as u8);
        } else if l <= 0xff {
            out.extend_from_slice(&[0x81, l as u8]);
        } else {
            out.extend_from_slice(&[0x82, (l >> 8) as u8, l as u8]);
        }
    }
    fn int(out: &mut Vec<u8>, v: &[u8]) {
        let pad = v.first().is_some_and(|b| b & 0x80 != 0);
        out.push(0x02);
        len(out, v.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(v);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 8);
    int(&mut body, n);
    int(&mut body, e);
    let mut out = Vec::with_capacity(body.len() + 4);
    out.push(0x30);
    len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

/// JWK (RFC 7517) of a public key, from the bytes aws-lc-rs holds: SPKI DER
/// for RSA (we read n and e from it through aws-lc-rs), the uncompressed
/// point for EC, the raw key for Ed25519.
fn jwk(alg: Algorithm, kid: Option<&str>, public: &[u8]) -> Option<serde_json::Value> {
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let mut obj = match alg {
        Algorithm::ES256 | Algorithm::ES384 | Algorithm::ES512 => {
            let (crv, n) = match alg {
                Algorithm::ES256 => ("P-256", 32),
                Algorithm::ES384 => ("P-384", 48),
                _ => ("P-521", 66),
            };
            let point = spki_bitstring(public).unwrap_or(public);
            if point.len() != 1 + 2 * n || point[0] != 4 {
                return None;
            }
            serde_json::json!({"kty": "EC", "crv": crv, "x": b64(&point[1..=n]), "y": b64(&point[1 + n..])})
        }
        Algorithm::EdDSA => {
            let raw = spki_bitstring(public).unwrap_or(public);
            serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": b64(raw)})
        }
        _ => {
            let key = aws_lc_rs::rsa::PublicKey::from_der(public).ok()?;
            let rsa = sig::RsaPublicKeyComponents::<Vec<u8>>::from(&key);
            serde_json::json!({"kty": "RSA", "n": b64(strip_zeros(&rsa.n)), "e": b64(strip_zeros(&rsa.e))})
        }
    };
    if let Some(map) = obj.as_object_mut() {
        map.insert("alg".into(), alg.as_str().into());
        map.insert("use".into(), "sig".into());
        if let Some(kid) = kid {
            map.insert("kid".into(), kid.into());
        }
    }
    Some(obj)
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b
        .iter()
        .position(|&x| x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    &b[first..]
}

/// The BIT STRING contents at the end of a SubjectPublicKeyInfo, if `der` is
/// one (SEQUENCE { AlgorithmIdentifier, BIT STRING }). Hand-written because
/// it is six lines of DER walking and pulling an ASN.1 crate in for it is
/// not worth it; anything unexpected returns `None`.
fn spki_bitstring(der: &[u8]) -> Option<&[u8]> {
    fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = b.split_first()?;
        let (&l0, rest) = rest.split_first()?;
        let (len, rest) = if l0 < 0x80 {
            (usize::from(l0), rest)
        } else {
            let n = usize::from(l0 & 0x7f);
            if n == 0 || n > 2 || rest.len() < n {
                return None;
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |a, &x| (a << 8) | usize::from(x));
            (len, &rest[n..])
        };
        if rest.len() < len {
            return None;
        }
        Some((tag, &rest[..len], &rest[len..]))
    }
    let (0x30, body, _) = tlv(der)? else {
        return None;
    };
    let (0x30, _, rest) = tlv(body)? else {
        return None;
    };
    let (0x03, bits, _) = tlv(rest)? else {
        return None;
    };
    let (&0, point) = bits.split_first()? else {
        return None;
    };
    Some(point)
}

/// Makes new key material: an HMAC secret or a PKCS#8 private key in PEM.
/// Used by `keygen` tools and tests.
///
/// ```
/// use authx::{Algorithm, keys::generate_pem};
/// let pem = generate_pem(Algorithm::ES256).unwrap();
/// assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
/// ```
pub fn generate_pem(alg: Algorithm) -> Result<String> {
    let rng = SystemRandom::new();
    let der = match alg {
        Algorithm::ES256 | Algorithm::ES384 | Algorithm::ES512 => {
            let signing = match alg {
                Algorithm::ES256 => &sig::ECDSA_P256_SHA256_FIXED_SIGNING,
                Algorithm::ES384 => &sig::ECDSA_P384_SHA384_FIXED_SIGNING,
                _ => &sig::ECDSA_P521_SHA512_FIXED_SIGNING,
            };
            sig::EcdsaKeyPair::generate_pkcs8(signing, &rng)
                .map_err(|_| Error::config("key generation failed"))?
                .as_ref()
                .to_vec()
        }
        Algorithm::EdDSA => sig::Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| Error::config("key generation failed"))?
            .as_ref()
            .to_vec(),
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => {
            use aws_lc_rs::encoding::AsDer;
            let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)
                .map_err(|_| Error::config("key generation failed"))?;
            key.as_der()
                .map_err(|_| Error::config("key generation failed"))?
                .as_ref()
                .to_vec()
        }
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
            return Err(Error::config(
                "HMAC algorithms use a random secret: see generate_secret",
            ));
        }
    };
    Ok(pem::encode(&pem::Pem::new("PRIVATE KEY", der)))
}

/// A random HMAC secret of 64 bytes, base64url-encoded (86 characters),
/// enough for HS512.
///
/// ```
/// assert_eq!(authx::keys::generate_secret().len(), 86);
/// ```
#[must_use]
pub fn generate_secret() -> String {
    URL_SAFE_NO_PAD.encode(crate::token::random_bytes::<64>())
}

/// The SPKI public key PEM matching a private key PEM, for sharing with
/// verifiers.
///
/// ```
/// use authx::{Algorithm, keys::{generate_pem, public_pem_from_private}};
/// let private = generate_pem(Algorithm::EdDSA).unwrap();
/// let public = public_pem_from_private(Algorithm::EdDSA, &private).unwrap();
/// assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
/// ```
pub fn public_pem_from_private(alg: Algorithm, private_pem: &str) -> Result<String> {
    use aws_lc_rs::encoding::AsDer;
    let fail = || Error::config("private_key: cannot derive the public key");
    let der: Vec<u8> = match private_key(alg, private_pem)? {
        SignerKind::Rsa(key, _) => aws_lc_rs::encoding::AsDer::<
            aws_lc_rs::encoding::PublicKeyX509Der,
        >::as_der(key.public_key())
        .map_err(|_| fail())?
        .as_ref()
        .to_vec(),
        SignerKind::Ecdsa(key) => key
            .public_key()
            .as_der()
            .map_err(|_| fail())?
            .as_ref()
            .to_vec(),
        SignerKind::Ed(key) => key
            .public_key()
            .as_der()
            .map_err(|_| fail())?
            .as_ref()
            .to_vec(),
        SignerKind::Hmac(_) => return Err(fail()),
    };
    Ok(pem::encode(&pem::Pem::new("PUBLIC KEY", der)))
}
