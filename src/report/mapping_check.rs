//! What `sharc mapping check` prints: one line per problem, `FILE:LINE:COLUMN: message (code)`, the
//! way compilers report, then a line saying whether the mapping is fit to crawl with.

use std::path::Path;

/// The line for one problem of the mapping at `path`: `FILE:LINE:COLUMN: message (code)`,
/// with as much of the place as the problem has.
pub fn problem_line(
    path: &Path,
    line: Option<usize>,
    column: Option<usize>,
    code: &str,
    message: &str,
) -> String {
    let place = match (line, column) {
        (Some(l), Some(c)) => format!(":{l}:{c}"),
        (Some(l), None) => format!(":{l}"),
        _ => String::new(),
    };
    format!("{}{place}: {message} ({code})", path.display())
}

/// The closing line: fit to crawl with, or how many problems there are; `against` names the
/// list and site the names were checked against.
pub fn verdict(path: &Path, problems: usize, fields: usize, against: Option<&str>) -> String {
    let checked = match against {
        Some(list) => format!("checked against {list}"),
        None => "checked offline; add --site URL to check the names against the list".into(),
    };
    if problems == 0 {
        format!("ok: {} ({fields} field(s), {checked})", path.display())
    } else {
        format!("{}: {problems} problem(s) ({checked})", path.display())
    }
}
