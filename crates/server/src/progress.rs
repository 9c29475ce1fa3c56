//! Progress of the long commands (`migrate`, `import`, `keys rotate`/`reseal`, `backup`,
//! `restore`), always on stderr: stdout carries what a command produces (an export, a summary
//! a script reads). On a terminal a bar with counts, redrawn in place; anywhere else (a log, a
//! pipe, CI) one line per step, `<command>: <step>`, so the record reads in order. Either way
//! the command ends with one summary line.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    task: &'static str,
    /// `None` off a terminal.
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Progress of `task` (the command's name, which starts every line).
    pub fn start(task: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{prefix}: [{bar:30}] {pos}/{len} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(task);
            bar
        });
        Self { task, bar }
    }

    /// A step without a count (copying, checking).
    pub fn step(&self, what: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(what.to_owned()),
            None => eprintln!("{}: {what}", self.task),
        }
    }

    /// `done` of `total` units, the latest being `what`.
    pub fn count(&self, done: u64, total: u64, what: &str) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(done);
                bar.set_message(what.to_owned());
            }
            None => eprintln!("{}: {done}/{total} {what}", self.task),
        }
    }

    /// Clears the bar and prints the summary line.
    pub fn finish(&self, summary: &str) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!("{}: done: {summary}", self.task);
    }
}
