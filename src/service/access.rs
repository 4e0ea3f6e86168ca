//! The access table: which roles may call which gRPC method. It is the one
//! place that grants anything, and it is deny-by-default: a path missing
//! here is UNIMPLEMENTED for every caller, decided before authentication
//! (open development mode included), and `tests/api/auth_table.rs` fails when a method of the
//! served descriptors has no line here (or a line names no method).
//!
//! The table grants *methods*. Which *partners* a partner token may name is
//! the object-level check of `service::caller` (`Caller::find`), which
//! every handler of a [`PARTNER`] method calls on every partner id of its
//! request.

use crate::auth::Role;

/// Who may call a method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allow {
    /// Anyone, without credentials: only health checks (load balancers
    /// and orchestrators probe them with no key).
    Public,
    /// Callers whose role is in the set.
    Roles(Roles),
}

impl Allow {
    /// Whether a caller of `role` may call the method.
    pub fn admits(self, role: Role) -> bool {
        match self {
            Allow::Public => true,
            Allow::Roles(roles) => roles.contains(role),
        }
    }
}

/// A set of roles, as bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles(u8);

impl Roles {
    const fn of(role: Role) -> u8 {
        match role {
            Role::Admin => 1,
            Role::Backend => 2,
            Role::Partner => 4,
        }
    }

    /// Whether `role` is in the set.
    pub const fn contains(self, role: Role) -> bool {
        self.0 & Roles::of(role) != 0
    }
}

/// Health checks: no credentials needed.
pub const PUBLIC: Allow = Allow::Public;
/// Periods, recalculations (and plans and commission runs): admins only.
pub const ADMIN: Allow = Allow::Roles(Roles(1));
/// Writes of partners and orders, and reads about the whole network.
pub const BACKEND: Allow = Allow::Roles(Roles(1 | 2));
/// Reads about one named partner: partner tokens too, confined by the
/// handler's object-level check to the caller and its downline (GetMentor:
/// to the caller itself).
pub const PARTNER: Allow = Allow::Roles(Roles(1 | 2 | 4));
/// Reads about no partner that every authenticated caller may make: the
/// periods, the training catalogue, reflection (the mobile app's needs).
pub const ANY: Allow = Allow::Roles(Roles(1 | 2 | 4));

/// Every method served, by full gRPC path, with who may call it.
pub const ACCESS: &[(&str, Allow)] = &[
    // downline.v1.GenealogyService
    ("/downline.v1.GenealogyService/CreatePartner", BACKEND),
    ("/downline.v1.GenealogyService/GetPartner", PARTNER),
    ("/downline.v1.GenealogyService/ListDownline", PARTNER),
    ("/downline.v1.GenealogyService/GetUpline", PARTNER),
    ("/downline.v1.GenealogyService/MovePartner", BACKEND),
    ("/downline.v1.GenealogyService/SetPartnerStatus", BACKEND),
    ("/downline.v1.GenealogyService/ListGenealogyEvents", PARTNER),
    ("/downline.v1.GenealogyService/ImportPartners", BACKEND),
    // downline.v1.VolumeService
    ("/downline.v1.VolumeService/RecordOrder", BACKEND),
    ("/downline.v1.VolumeService/RecordOrders", BACKEND),
    ("/downline.v1.VolumeService/GetVolumes", PARTNER),
    ("/downline.v1.VolumeService/ListPeriods", ANY),
    ("/downline.v1.VolumeService/ClosePeriod", ADMIN),
    ("/downline.v1.VolumeService/RecalculateVolumes", ADMIN),
    // Bulk exports: the whole network's figures, the back office's.
    ("/downline.v1.VolumeService/ExportVolumes", BACKEND),
    // downline.v1.CompensationService: plans and runs are the company's;
    // a partner reads its own (and its downline's) rank card, statement,
    // level explanation.
    ("/downline.v1.CompensationService/GetPlan", BACKEND),
    ("/downline.v1.CompensationService/UpdatePlan", ADMIN),
    ("/downline.v1.CompensationService/GetRankProgress", PARTNER),
    ("/downline.v1.CompensationService/StartCommissionRun", ADMIN),
    ("/downline.v1.CompensationService/GetCommissionRun", BACKEND),
    ("/downline.v1.CompensationService/DeleteCommissionRun", ADMIN),
    ("/downline.v1.CompensationService/GetStatement", PARTNER),
    ("/downline.v1.CompensationService/ListStatements", BACKEND),
    ("/downline.v1.CompensationService/ExplainLevel", PARTNER),
    ("/downline.v1.CompensationService/GetComplianceReport", BACKEND),
    ("/downline.v1.CompensationService/ExportStatements", BACKEND),
    // downline.v1.TeamService: the back office assigns mentors and records
    // training; the company publishes modules; a partner reads its team.
    ("/downline.v1.TeamService/AssignMentor", BACKEND),
    ("/downline.v1.TeamService/GetMentor", PARTNER),
    ("/downline.v1.TeamService/ListMentees", PARTNER),
    ("/downline.v1.TeamService/CreateTrainingModule", ADMIN),
    ("/downline.v1.TeamService/UpdateTrainingModule", ADMIN),
    ("/downline.v1.TeamService/ListTrainingModules", ANY),
    ("/downline.v1.TeamService/RecordTrainingCompletion", BACKEND),
    ("/downline.v1.TeamService/ListTrainingCompletions", PARTNER),
    ("/downline.v1.TeamService/GetTeamProgress", PARTNER),
    // downline.v1.SimulationService (issue #18): what-if runs of a
    // candidate plan are the compensation team's, never partners'.
    ("/downline.v1.SimulationService/SimulatePlan", ADMIN),
    ("/downline.v1.SimulationService/GetSimulation", ADMIN),
    ("/downline.v1.SimulationService/ListSimulationResults", ADMIN),
    ("/downline.v1.SimulationService/ExportSimulationResults", ADMIN),
    // downline.v1.OperationsService: operations are started by admins and
    // say nothing about one partner.
    ("/downline.v1.OperationsService/GetOperation", BACKEND),
    // A backup holds every partner's data: admins only.
    ("/downline.v1.OperationsService/BackupStore", ADMIN),
    // grpc.health.v1.Health
    ("/grpc.health.v1.Health/Check", PUBLIC),
    ("/grpc.health.v1.Health/Watch", PUBLIC),
    // Server reflection: the API's shape, for grpcurl and buf curl, and for
    // the app developers who hold partner tokens.
    ("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", ANY),
    ("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", ANY),
];

/// Who may call the method at `path`; `None` (everyone is denied) when it
/// is not in the table.
pub fn rule(path: &str) -> Option<Allow> {
    ACCESS.iter().find(|(p, _)| *p == path).map(|&(_, allow)| allow)
}

/// A method of a service descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Method {
    /// `/package.Service/Method`.
    pub path: String,
    /// Whether the client streams its request.
    pub client_streaming: bool,
    /// Whether the server streams its answer (health Watch, reflection).
    pub server_streaming: bool,
    /// The request message's full name, without the leading dot.
    pub input_type: String,
}

/// Every method of the services of encoded `FileDescriptorSet`s.
pub fn methods(descriptor_sets: &[&[u8]]) -> Result<Vec<Method>, prost::DecodeError> {
    use prost::Message as _;
    let mut out = Vec::new();
    for bytes in descriptor_sets {
        let set = prost_types::FileDescriptorSet::decode(*bytes)?;
        for file in &set.file {
            let package = file.package();
            for service in &file.service {
                for m in &service.method {
                    out.push(Method {
                        path: format!("/{package}.{}/{}", service.name(), m.name()),
                        client_streaming: m.client_streaming(),
                        server_streaming: m.server_streaming(),
                        input_type: m.input_type().trim_start_matches('.').to_owned(),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// The descriptor sets of every service the server registers.
pub fn served_descriptor_sets() -> [&'static [u8]; 4] {
    [
        crate::proto::FILE_DESCRIPTOR_SET,
        tonic_health::pb::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
        tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
    ]
}
