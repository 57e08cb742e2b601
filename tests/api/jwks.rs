//! Production keys: RS256 and ES256 tokens verified against a JWKS file, chosen by `kid`, with
//! `exp`, `nbf`, `iss` and `aud` checked, and keys rotated without a restart.

use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

use crate::helpers::{problem, TestApp};

const ISSUER: &str = "https://login.test.example";
const AUDIENCE: &str = "ucp-api";

fn key_file(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/keys")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e:?}", path.display()))
}

fn encoding_key(name: &str) -> EncodingKey {
    let pem = key_file(&format!("{name}.pem"));
    if name.starts_with("ec") {
        EncodingKey::from_ec_pem(&pem)
    } else {
        EncodingKey::from_rsa_pem(&pem)
    }
    .unwrap_or_else(|e| panic!("{name}: {e:?}"))
}

fn alg(name: &str) -> Algorithm {
    if name.starts_with("ec") {
        Algorithm::ES256
    } else {
        Algorithm::RS256
    }
}

/// The public JWK of a test key, with its name as `kid`.
fn jwk(name: &str) -> Jwk {
    let mut jwk = Jwk::from_encoding_key(&encoding_key(name), alg(name)).unwrap();
    jwk.common.key_id = Some(name.to_owned());
    jwk
}

fn write_jwks(path: &std::path::Path, names: &[&str]) {
    let set = JwkSet {
        keys: names.iter().map(|n| jwk(n)).collect(),
    };
    // Write beside and rename, as a key rotation job would, so readers never see half a file.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, serde_json::to_vec(&set).unwrap_or_default()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn claims() -> Value {
    json!({
        "sub": "crew-7", "role": "ambulance", "org": "RRU", "name": "Crew Seven",
        "iss": ISSUER, "aud": AUDIENCE, "exp": now() + 600, "nbf": now() - 10, "iat": now()
    })
}

/// Signs `claims` with key `signer`, naming key `kid` in the header.
fn token(signer: &str, kid: &str, header_alg: Algorithm, claims: &Value) -> String {
    let mut header = Header::new(header_alg);
    header.kid = Some(kid.to_owned());
    encode(&header, claims, &encoding_key(signer)).unwrap()
}

async fn status(app: &TestApp, token: &str) -> u16 {
    app.client
        .get(app.url("/v1/patients?family=nobody&postcode=SE1%207EH"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn rs256_and_es256_tokens_verify_against_the_jwks_and_keys_rotate_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    write_jwks(&jwks, &["rsa-1", "ec-1"]);
    let keys = ucp_api::JwtKeys::default()
        .with_jwks_file(&jwks)
        .unwrap()
        .with_issuer(Some(ISSUER.into()))
        .with_audience(Some(AUDIENCE.into()));
    let app = TestApp::builder().keys(keys).spawn().await;

    assert_eq!(
        status(&app, &token("rsa-1", "rsa-1", Algorithm::RS256, &claims())).await,
        200
    );
    assert_eq!(
        status(&app, &token("ec-1", "ec-1", Algorithm::ES256, &claims())).await,
        200
    );

    // Each check refuses on its own.
    let mut c = claims();
    c["iss"] = json!("https://elsewhere.example");
    assert_eq!(
        status(&app, &token("rsa-1", "rsa-1", Algorithm::RS256, &c)).await,
        401,
        "issuer"
    );
    let mut c = claims();
    c["aud"] = json!("another-api");
    assert_eq!(
        status(&app, &token("rsa-1", "rsa-1", Algorithm::RS256, &c)).await,
        401,
        "audience"
    );
    let mut c = claims();
    c["exp"] = json!(now() - 120);
    assert_eq!(
        status(&app, &token("ec-1", "ec-1", Algorithm::ES256, &c)).await,
        401,
        "expired"
    );
    let mut c = claims();
    c["nbf"] = json!(now() + 600);
    assert_eq!(
        status(&app, &token("ec-1", "ec-1", Algorithm::ES256, &c)).await,
        401,
        "not yet valid"
    );
    let mut c = claims();
    c.as_object_mut().map(|o| o.remove("iss"));
    assert_eq!(
        status(&app, &token("rsa-1", "rsa-1", Algorithm::RS256, &c)).await,
        401,
        "no issuer"
    );
    // A key that signs under another key's name, or an algorithm the key is not for.
    assert_eq!(
        status(&app, &token("rsa-2", "rsa-1", Algorithm::RS256, &claims())).await,
        401,
        "wrong signer"
    );
    assert_eq!(
        status(&app, &token("rsa-1", "ec-1", Algorithm::RS256, &claims())).await,
        401,
        "alg mismatch"
    );
    // HS256 is not accepted when no secret is configured.
    let hs = crate::helpers::token(ucp_api::Role::Ambulance);
    let res = app
        .client
        .get(app.url("/v1/patients?family=x&postcode=SE1%207EH"))
        .bearer_auth(hs)
        .send()
        .await
        .unwrap();
    let body = problem(res, 401).await;
    assert!(body["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("HS256"));

    // Rotation: a new key is unknown, then published, then the old one withdrawn.
    let new_key = token("rsa-2", "rsa-2", Algorithm::RS256, &claims());
    assert_eq!(status(&app, &new_key).await, 401, "not yet published");
    write_jwks(&jwks, &["rsa-1", "ec-1", "rsa-2"]);
    assert_eq!(
        status(&app, &new_key).await,
        200,
        "published: accepted without a restart"
    );
    write_jwks(&jwks, &["ec-1", "rsa-2"]);
    // The file changed (another length), so the next token triggers a reload.
    assert_eq!(
        status(&app, &token("rsa-1", "rsa-1", Algorithm::RS256, &claims())).await,
        401,
        "withdrawn"
    );
    assert_eq!(status(&app, &new_key).await, 200);
    // A broken file fails closed: no key of the old set is trusted until a good set loads.
    std::fs::write(&jwks, b"{ not json").unwrap();
    assert_eq!(
        status(&app, &new_key).await,
        401,
        "a file that does not load leaves no key trusted"
    );
    write_jwks(&jwks, &["rsa-2"]);
    assert_eq!(status(&app, &new_key).await, 200, "a good set loads again");
}
