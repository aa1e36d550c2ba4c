//! The BagIt profile that describes the bags sharc writes.
//!
//! A profile (bagit-profiles specification 1.4) lets a receiving archive check a bag against
//! what its producer promised — required bag-info elements, sha512 manifests, no
//! `fetch.txt`, zip as the serialization — with tools such as `bagit_profile.py`. The profile
//! lives in the repository as `profile/sharc-bagit-profile.json`, is compiled into sharc, is
//! shipped inside every bag as the tag file [`PROFILE_TAG_FILE`], and is named in each
//! bag-info by `BagIt-Profile-Identifier`. A unit test keeps the identifier inside the JSON
//! and [`PROFILE_IDENTIFIER`] equal.

/// The profile's identifier, written as `BagIt-Profile-Identifier` in `bag-info.txt`.
pub const PROFILE_IDENTIFIER: &str = "urn:sharc:bagit-profile:1.0";

/// Name of the tag file each bag carries the profile in.
pub const PROFILE_TAG_FILE: &str = "bagit-profile.json";

/// The profile, byte for byte as kept in the repository.
pub const PROFILE_JSON: &str = include_str!("../../profile/sharc-bagit-profile.json");

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_profile_names_itself_and_what_sharc_writes() -> Result<(), serde_json::Error> {
        let profile: Value = serde_json::from_str(PROFILE_JSON)?;
        assert_eq!(
            profile["BagIt-Profile-Info"]["BagIt-Profile-Identifier"],
            PROFILE_IDENTIFIER
        );
        assert_eq!(
            profile["Bag-Info"]["BagIt-Profile-Identifier"]["values"][0],
            PROFILE_IDENTIFIER
        );
        assert_eq!(profile["Manifests-Required"], serde_json::json!(["sha512"]));
        assert_eq!(profile["Allow-Fetch.txt"], Value::Bool(false));
        let required = profile["Tag-Files-Required"].as_array();
        assert!(required.is_some_and(|r| r.contains(&Value::from(PROFILE_TAG_FILE))));
        assert_eq!(
            profile["Accept-Serialization"],
            serde_json::json!(["application/zip"])
        );
        Ok(())
    }
}
