//! What `sharc mapping check` prints: one line per problem, `FILE:LINE: message (code)`, the
//! way compilers report, then a line saying whether the mapping is fit to crawl with.

use std::path::Path;

/// One problem as the check found it: its line, its stable code, its message.
pub type ProblemLine<'a> = (Option<usize>, &'a str, &'a str);

/// The line for one problem of the mapping at `path`.
pub fn problem_line(path: &Path, (line, code, message): ProblemLine<'_>) -> String {
    match line {
        Some(line) => format!("{}:{line}: {message} ({code})", path.display()),
        None => format!("{}: {message} ({code})", path.display()),
    }
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
