//! The client side of NTLM (MS-NLMP) as HTTP uses it (MS-NTHT): a `NEGOTIATE_MESSAGE`, the
//! server's `CHALLENGE_MESSAGE` in its `401`, and an `AUTHENTICATE_MESSAGE` with an NTLMv2
//! response sent with the real request, all three on one keep-alive connection.
//!
//! Only NTLMv2 is spoken: the NTLMv1 and LM responses are broken and IIS farms since Windows
//! Server 2008 refuse them by default (`LmCompatibilityLevel` 3 and up). No session key is
//! negotiated: HTTP needs neither signing nor sealing. The messages are small enough to
//! build here with RustCrypto's MD4 and HMAC-MD5 rather than pull in a whole SSPI stack.

use super::auth::Account;
use hmac::{KeyInit, Mac};
use md4::{Digest, Md4};

type HmacMd5 = hmac::Hmac<md5::Md5>;

const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const REQUEST_TARGET: u32 = 0x0000_0004;
const NEGOTIATE_NTLM: u32 = 0x0000_0200;
const NEGOTIATE_ALWAYS_SIGN: u32 = 0x0000_8000;
const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
const NEGOTIATE_TARGET_INFO: u32 = 0x0080_0000;
const NEGOTIATE_128: u32 = 0x2000_0000;
const NEGOTIATE_56: u32 = 0x8000_0000;
const FLAGS: u32 = NEGOTIATE_UNICODE
    | REQUEST_TARGET
    | NEGOTIATE_NTLM
    | NEGOTIATE_ALWAYS_SIGN
    | NEGOTIATE_EXTENDED_SESSIONSECURITY
    | NEGOTIATE_TARGET_INFO
    | NEGOTIATE_128
    | NEGOTIATE_56;
/// `MsvAvTimestamp` in the target information.
const AV_TIMESTAMP: u16 = 7;
/// Seconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01.
const FILETIME_UNIX_OFFSET: u64 = 11_644_473_600;

/// The first leg: `NEGOTIATE_MESSAGE`, no domain or workstation supplied.
pub(crate) fn negotiate() -> Vec<u8> {
    let mut m = Vec::with_capacity(32);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&FLAGS.to_le_bytes());
    // Empty domain and workstation fields: length, allocated length, offset.
    for _ in 0..2 {
        m.extend_from_slice(&[0, 0, 0, 0]);
        m.extend_from_slice(&32u32.to_le_bytes());
    }
    m
}

/// What the second leg carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Challenge {
    flags: u32,
    server_challenge: [u8; 8],
    target_info: Vec<u8>,
}

/// Reads a `CHALLENGE_MESSAGE`; `None` when it is not one or its fields point outside it.
pub(crate) fn parse_challenge(m: &[u8]) -> Option<Challenge> {
    if m.get(..8)? != SIGNATURE || u32_at(m, 8)? != 2 {
        return None;
    }
    let flags = u32_at(m, 20)?;
    let server_challenge = m.get(24..32)?.try_into().ok()?;
    let target_info = if flags & NEGOTIATE_TARGET_INFO != 0 {
        field(m, 40)?.to_vec()
    } else {
        Vec::new()
    };
    Some(Challenge {
        flags,
        server_challenge,
        target_info,
    })
}

/// The third leg: `AUTHENTICATE_MESSAGE` with the NTLMv2 response of `account` to
/// `challenge`, made with the 8 random bytes `client_challenge` at `now` (FILETIME, used only
/// when the server sent no timestamp).
pub(crate) fn authenticate(
    account: &Account,
    challenge: &Challenge,
    client_challenge: [u8; 8],
    now: u64,
) -> Vec<u8> {
    let key = ntowf_v2(account);
    let timestamp = av_timestamp(&challenge.target_info).unwrap_or(now);
    let mut blob = vec![1, 1, 0, 0, 0, 0, 0, 0];
    blob.extend_from_slice(&timestamp.to_le_bytes());
    blob.extend_from_slice(&client_challenge);
    blob.extend_from_slice(&[0; 4]);
    blob.extend_from_slice(&challenge.target_info);
    blob.extend_from_slice(&[0; 4]);
    let proof = hmac_md5(&key, &[&challenge.server_challenge, &blob]);
    let mut nt = proof.to_vec();
    nt.extend_from_slice(&blob);
    let mut lm = hmac_md5(&key, &[&challenge.server_challenge, &client_challenge]).to_vec();
    lm.extend_from_slice(&client_challenge);

    let payload: [Vec<u8>; 6] = [
        lm,
        nt,
        utf16(&account.domain),
        utf16(&account.user),
        Vec::new(),
        Vec::new(),
    ];
    const HEADER: usize = 64;
    let mut m = Vec::with_capacity(HEADER + payload.iter().map(Vec::len).sum::<usize>());
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&3u32.to_le_bytes());
    let mut offset = HEADER;
    for p in &payload {
        let len = p.len() as u16;
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&len.to_le_bytes());
        m.extend_from_slice(&(offset as u32).to_le_bytes());
        offset += p.len();
    }
    let flags = (challenge.flags & FLAGS) | NEGOTIATE_UNICODE | NEGOTIATE_NTLM;
    m.extend_from_slice(&flags.to_le_bytes());
    for p in &payload {
        m.extend_from_slice(p);
    }
    m
}

/// Now as a FILETIME: 100 ns ticks since 1601-01-01 UTC.
pub(crate) fn filetime_now() -> u64 {
    let since_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    (since_unix.as_secs() + FILETIME_UNIX_OFFSET) * 10_000_000
        + u64::from(since_unix.subsec_nanos() / 100)
}

/// Eight unpredictable bytes for the client challenge, from the standard library's randomly
/// keyed hasher (seeded by the operating system), mixed with the time.
pub(crate) fn client_challenge() -> [u8; 8] {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(filetime_now());
    h.finish().to_le_bytes()
}

/// `NTOWFv2`: HMAC-MD5 keyed with MD4(password) over uppercase user and domain, UTF-16LE.
fn ntowf_v2(account: &Account) -> [u8; 16] {
    let nt_hash: [u8; 16] = Md4::digest(utf16(account.password.expose())).into();
    let identity = format!("{}{}", account.user.to_uppercase(), account.domain);
    hmac_md5(&nt_hash, &[&utf16(&identity)])
}

fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut mac = <HmacMd5 as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

fn u32_at(m: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(m.get(at..at + 4)?.try_into().ok()?))
}

/// The bytes a security buffer field at `at` (length, allocated length, offset) points to.
fn field(m: &[u8], at: usize) -> Option<&[u8]> {
    let len = u16::from_le_bytes(m.get(at..at + 2)?.try_into().ok()?) as usize;
    let offset = u32_at(m, at + 4)? as usize;
    m.get(offset..offset.checked_add(len)?)
}

/// The server's `MsvAvTimestamp`, when its target information has one.
fn av_timestamp(info: &[u8]) -> Option<u64> {
    let mut at = 0;
    while let (Some(id), Some(len)) = (info.get(at..at + 2), info.get(at + 2..at + 4)) {
        let id = u16::from_le_bytes(id.try_into().ok()?);
        let len = u16::from_le_bytes(len.try_into().ok()?) as usize;
        let value = info.get(at + 4..at + 4 + len)?;
        match id {
            0 => return None,
            AV_TIMESTAMP => return Some(u64::from_le_bytes(value.try_into().ok()?)),
            _ => at += 4 + len,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::auth::Secret;

    fn hex(s: &str) -> Vec<u8> {
        ::hex::decode(s.replace(' ', "")).unwrap()
    }

    /// The NTLMv2 example of MS-NLMP 4.2.4: user "User", domain "Domain", password
    /// "Password", server challenge 0123456789abcdef, client challenge aa×8, time 0.
    #[test]
    fn the_ntlmv2_response_matches_the_specifications_example() {
        let account = Account::new("Domain\\User", Secret::new("Password").unwrap()).unwrap();
        assert_eq!(
            ntowf_v2(&account).to_vec(),
            hex("0c868a403bfd7a93a3001ef22ef02e3f")
        );
        let target_info =
            hex("02000c0044006f006d00610069006e00 01000c0053006500720076006500720000000000");
        let challenge = Challenge {
            flags: 0xe28a_8233,
            server_challenge: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
            target_info,
        };
        let m = authenticate(&account, &challenge, [0xaa; 8], 0);
        let nt = field(&m, 20).unwrap();
        assert_eq!(nt[..16].to_vec(), hex("68cd0ab851e51c96aabc927bebef6a1c"));
        let lm = field(&m, 12).unwrap();
        assert_eq!(
            lm.to_vec(),
            hex("86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
        );
        assert_eq!(field(&m, 36).unwrap(), utf16("User").as_slice());
    }

    #[test]
    fn a_challenge_is_read_within_its_bounds() {
        let mut m = Vec::new();
        m.extend_from_slice(SIGNATURE);
        m.extend_from_slice(&2u32.to_le_bytes());
        m.extend_from_slice(&[0, 0, 0, 0, 56, 0, 0, 0]);
        m.extend_from_slice(&(FLAGS).to_le_bytes());
        m.extend_from_slice(&[7; 8]);
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&[4, 0, 4, 0, 56, 0, 0, 0]);
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&[0, 0, 0, 0]);
        let c = parse_challenge(&m).unwrap();
        assert_eq!(c.server_challenge, [7; 8]);
        assert_eq!(c.target_info, [0, 0, 0, 0]);
        // A target-info field pointing past the end is no challenge.
        m.truncate(57);
        assert_eq!(parse_challenge(&m), None);
        assert_eq!(parse_challenge(b"NTLMSSP\0\x01\0\0\0"), None);
        assert_eq!(negotiate().len(), 32);
    }
}
