"""torsion.application: the service tree, network services, and the runner's application model.

`service` (Service, MultiService, Application), `internet` (TCPServer, TimerService,
ClientService ...), `strports` (services from "tcp:8080" strings), `app` (what the `torsion`
runner does with them).
"""
