//! The domain model of the Project on Cybercrime of the Council of Europe.
//!
//! It knows treaties (the Budapest Convention, ETS 185, its Protocol, ETS 189, and any other), states and the
//! actions they take under each treaty, the project's activities with their imprecise dates, legislative
//! assistance, country profiles, 24/7 contact points, studies, outputs and indicators, the year's priorities,
//! funding, the figures
//! reports state, and the reservations, declarations and designated authorities states make under a treaty's
//! articles. It answers "what was the status of ETS 185 on any date?" and rejects impossible data with a
//! precise error.
//!
//! It does no I/O and knows nothing of protobuf or SQL: the dataset is parsed from text handed to it
//! ([`Dataset::parse`]), and the bundled 2007 dataset is compiled in ([`Dataset::bundled`]).
//!
//! Dates are [`ApproxDate`]s: known to the day or only within bounds. Nothing here turns a bound into a day;
//! a question whose answer depends on where in its bounds a date lies is answered "uncertain", and so is one
//! about a date past what a treaty's record covers ([`Coverage`]). A consent's bounds may be narrowed by what
//! other recorded facts imply ([`DerivedBound`]), never to a day.

mod activity;
mod dataset;
mod date;
mod declaration;
mod derive;
mod error;
mod filter;
pub mod limits;
pub mod names;
mod programme;
mod queries;
mod rules;
mod source;
mod state;
mod status;
pub mod synthetic;
mod treaty;
mod vocabulary;

pub use activity::{
    Activity, ActivityKind, ActivityPrecision, ActivityStatus, OUTPUTS, Partner, PartnerRole, Place, Plan,
};
pub use dataset::{Dataset, DatasetError, DatasetErrors, FILES, OPTIONAL_FILES};
pub use date::{ApproxDate, DateParseError, DatePrecision, MONTH_NAMES, first_day_of_month_after, last_day_of_month};
pub use declaration::{ArticleParseError, ArticleRef, Declaration, DeclarationKind, DeclarationQuery, Standing};
pub use error::{ModelError, Result};
pub use filter::{
    Comparison, CountryComparison, CountryFilter, DateOp, EqOp, Expr, Filter, FilterError, HasOp, MAX_FILTER_DEPTH,
    MAX_FILTER_LEN,
};
pub use programme::{
    AssistanceMethod, AssistanceStep, BudgetLine, ContactPoint, ContactPointStatus, Contribution, CooperationRecord,
    CountryProfile, FundingSource, Indicator, LegislativeAssistance, Measure, Money, Objective, Organisation,
    OrganisationKind, Output, Priority, Qualifier, ReportedFigure, StepStatus, Study, Target,
};
pub use queries::{CountryPage, CountryTreaty, TargetValue};
pub use source::{Citation, SourceDocument, SourceRef};
pub use state::{CountryCode, CountryKind, Region, State};
pub use status::{Reconciliation, StateStatus, StateStatusEntry, StatusGroup, TreatyStatus, YearCount};
pub use treaty::{
    ActionKind, Coverage, DaysAfter, DenunciationRule, DerivedBound, DerivedKind, Eligibility, EntryIntoForceRule,
    Treaty, TreatyAction, TreatyNumber, TreatySeries,
};
pub use vocabulary::Vocabulary;
