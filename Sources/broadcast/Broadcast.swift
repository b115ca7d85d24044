import ArgumentParser

@main
struct Broadcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broadcast",
        abstract: "Send WhatsApp campaigns and sequences through Kafka.",
        subcommands: [
            DevCommand.self, ClusterCommand.self, WorkerCommand.self, PublishCommand.self, SequencesCommand.self,
            OptOutCommand.self, StatusCommand.self, ReportCommand.self, CampaignControlCommand.self, DLQCommand.self,
            ConsoleCommand.self, DeviceCommand.self,
            BenchCommand.self, WebhooksCommand.self,
        ]
    )
}
