//! The team room: mentors, training modules and completions, and
//! GetTeamProgress over the team layout.

pub mod layout;
pub mod mentors;
pub mod network_team;
pub mod progress;
mod tally;
pub mod training;

pub use layout::TeamLayout;
pub use mentors::{Assignment, MenteeCursor, MenteePage, MentorSource, MentorView};
pub use network_team::{CompletionOutcome, Team};
pub use progress::{LevelProgress, TeamProgress};
pub use training::{Completion, ModuleUpdate, Training, TrainingModule};
