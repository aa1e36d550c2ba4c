//! SharePoint's error bodies, in their three serialisations.
//!
//! Verbose answers `{"error":{"code":…,"message":{"value":…}}}`, JSON Light answers
//! `{"odata.error":{…}}`, and Atom clients get `<m:error>` XML. The code carries the .NET
//! exception name (`-2147024891, System.UnauthorizedAccessException`), which is often the
//! clearest thing to show a user.

/// The code and message of a SharePoint error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharePointError {
    /// The `code`, e.g. `-1, System.ArgumentException`.
    pub code: String,
    /// The human message.
    pub message: String,
}

impl SharePointError {
    /// The code, and the message after it when there is one: what a user is shown.
    pub fn summary(&self) -> String {
        if self.message.is_empty() {
            self.code.clone()
        } else {
            format!("{}: {}", self.code, self.message)
        }
    }
}

/// Parses an error body in any of the three serialisations; `None` if it is none of them.
pub fn parse(body: &[u8]) -> Option<SharePointError> {
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
        let e = v.get("error").or_else(|| v.get("odata.error"))?;
        let code = e
            .get("code")
            .and_then(|c| c.as_str())
            .unwrap_or("")
            .to_string();
        let message = match e.get("message") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(m) => m
                .get("value")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string(),
            None => String::new(),
        };
        return Some(SharePointError { code, message });
    }
    let text = std::str::from_utf8(body).ok()?;
    let code = between(text, "<m:code>", "</m:code>")?;
    let message = text
        .find("<m:message")
        .and_then(|i| text[i..].find('>').map(|j| i + j + 1))
        .and_then(|start| {
            text[start..]
                .find("</m:message>")
                .map(|end| &text[start..start + end])
        })
        .unwrap_or("");
    Some(SharePointError {
        code: code.to_string(),
        message: message.to_string(),
    })
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbose_light_and_xml_errors() {
        let verbose = br#"{"error":{"code":"-2147024860, Microsoft.SharePoint.SPQueryThrottledException","message":{"lang":"en-US","value":"The attempted operation is prohibited because it exceeds the list view threshold enforced by the administrator."}}}"#;
        let e = parse(verbose).unwrap();
        assert!(e.code.ends_with("SPQueryThrottledException"));
        assert!(e.message.starts_with("The attempted operation"));

        let light = br#"{"odata.error":{"code":"-1, System.ArgumentException","message":{"lang":"en-US","value":"List 'nonexisting' does not exist at site with URL 'https://x'."}}}"#;
        assert_eq!(parse(light).unwrap().code, "-1, System.ArgumentException");

        let xml = br#"<?xml version="1.0"?><m:error xmlns:m="http://schemas.microsoft.com/ado/2007/08/dataservices/metadata"><m:code>-2147024891, System.UnauthorizedAccessException</m:code><m:message xml:lang="en-US">Attempted to perform an unauthorized operation.</m:message></m:error>"#;
        let e = parse(xml).unwrap();
        assert_eq!(e.message, "Attempted to perform an unauthorized operation.");
        assert!(parse(b"401 UNAUTHORIZED").is_none());
    }
}
