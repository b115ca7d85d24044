/// The OpenAPI 3 description of `/api/v1`, served at `/api/v1/openapi.yaml`. It is the text of
/// docs/openapi.yaml (a test holds the two equal; CI validates that file with openapi-spec-validator):
/// after editing the file, copy it here between the delimiters.
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.0.3
info:
  title: broadcast console API
  version: 1.0.0
  description: |
    The JSON API of `broadcast console`: campaigns, sequences, devices and dead letters as the status
    projection shows them, campaign control, dead-letter replay, and enqueueing of messages and campaigns.

    Every operation needs `Authorization: Bearer <token>`. Roles: `viewer` reads; `operator` also
    pauses, resumes and cancels campaigns, replays dead letters and enqueues; `admin` also sees full
    phone numbers (others see them masked). A token bound to a user (`userId`) sees and touches only
    that user's campaigns, messages and dead letters; another user's campaign answers 404.
    Every state change is a POST; the console sets and reads no cookies.
servers:
  - url: http://127.0.0.1:8088
security:
  - bearer: []
paths:
  /api/v1/me:
    get:
      summary: The token's name, role and user scope
      operationId: me
      responses:
        "200":
          description: Who the token is
          content:
            application/json:
              schema:
                type: object
                properties:
                  name: { type: string }
                  role: { type: string, enum: [viewer, operator, admin] }
                  userId: { type: string, description: empty when the token is not bound to a user }
        "401": { $ref: "#/components/responses/Unauthorized" }
  /api/v1/campaigns:
    get:
      summary: Every campaign with counts and rates, latest activity first
      operationId: listCampaigns
      responses:
        "200":
          description: Campaigns
          content:
            application/json:
              schema:
                type: object
                required: [campaigns]
                properties:
                  campaigns:
                    type: array
                    items: { $ref: "#/components/schemas/ScopeSummary" }
        "401": { $ref: "#/components/responses/Unauthorized" }
    post:
      summary: Validate and publish a campaign file and its recipients CSV
      description: |
        Takes what `broadcast publish campaign` takes, checked by the same loader and planner: field
        problems of the campaign file and every bad CSV row (with its line) are listed, and nothing is
        published unless `skipInvalid` is true. The campaign's `recipients` field must be a plain file
        name; the uploaded CSV is stored under it for the check.
      operationId: publishCampaign
      requestBody:
        required: true
        content:
          application/json:
            schema: { $ref: "#/components/schemas/CampaignUpload" }
      responses:
        "200":
          description: Published (or checked, with dryRun)
          content:
            application/json:
              schema: { $ref: "#/components/schemas/CampaignUploadResult" }
        "400": { $ref: "#/components/responses/BadRequest" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "403":
          description: Below operator, or the campaign's userId is not the token's user
          content:
            application/json:
              schema:
                oneOf:
                  - { $ref: "#/components/schemas/Error" }
                  - { $ref: "#/components/schemas/CampaignUploadResult" }
        "422":
          description: Refused; fieldIssues and rowIssues say why
          content:
            application/json:
              schema: { $ref: "#/components/schemas/CampaignUploadResult" }
        "502":
          description: Kafka did not acknowledge every record
          content:
            application/json:
              schema: { $ref: "#/components/schemas/CampaignUploadResult" }
  /api/v1/campaigns/{id}:
    get:
      summary: One campaign with devices, steps and sends over time
      operationId: getCampaign
      parameters:
        - { $ref: "#/components/parameters/Id" }
      responses:
        "200":
          description: The campaign
          content:
            application/json:
              schema: { $ref: "#/components/schemas/ScopeDetail" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "404": { $ref: "#/components/responses/NotFound" }
  /api/v1/campaigns/{id}/report.csv:
    get:
      summary: Per-recipient report (what `broadcast report campaign` prints)
      operationId: campaignReport
      parameters:
        - { $ref: "#/components/parameters/Id" }
        - { $ref: "#/components/parameters/Section" }
      responses:
        "200": { $ref: "#/components/responses/ReportCSV" }
        "400": { $ref: "#/components/responses/BadRequest" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "404": { $ref: "#/components/responses/NotFound" }
  /api/v1/campaigns/{id}/pause:
    post:
      summary: Hold the campaign's messages on every worker until resumed
      operationId: pauseCampaign
      parameters:
        - { $ref: "#/components/parameters/Id" }
      responses:
        "200": { $ref: "#/components/responses/Control" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "403": { $ref: "#/components/responses/Forbidden" }
        "404": { $ref: "#/components/responses/NotFound" }
  /api/v1/campaigns/{id}/resume:
    post:
      summary: Let a paused campaign send again
      operationId: resumeCampaign
      parameters:
        - { $ref: "#/components/parameters/Id" }
      responses:
        "200": { $ref: "#/components/responses/Control" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "403": { $ref: "#/components/responses/Forbidden" }
        "404": { $ref: "#/components/responses/NotFound" }
  /api/v1/campaigns/{id}/cancel:
    post:
      summary: Skip every message of the campaign not yet sent
      operationId: cancelCampaign
      parameters:
        - { $ref: "#/components/parameters/Id" }
      responses:
        "200": { $ref: "#/components/responses/Control" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "403": { $ref: "#/components/responses/Forbidden" }
        "404": { $ref: "#/components/responses/NotFound" }
  /api/v1/sequences:
    get:
      summary: Every drip sequence with counts and rates
      operationId: listSequences
      responses:
        "200":
          description: Sequences
          content:
            application/json:
              schema:
                type: object
                required: [sequences]
                properties:
                  sequences:
                    type: array
                    items: { $ref: "#/components/schemas/ScopeSummary" }
        "401": { $ref: "#/components/responses/Unauthorized" }
  /api/v1/sequences/{id}:
    get:
      summary: One sequence with steps, devices and sends over time
      operationId: getSequence
      parameters:
        - { $ref: "#/components/parameters/Id" }
      responses:
        "200":
          description: The sequence
          content:
            application/json:
              schema: { $ref: "#/components/schemas/ScopeDetail" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "404": { $ref: "#/components/responses/NotFound" }
  /api/v1/sequences/{id}/report.csv:
    get:
      summary: Per-recipient report of a sequence
      operationId: sequenceReport
      parameters:
        - { $ref: "#/components/parameters/Id" }
        - { $ref: "#/components/parameters/Section" }
      responses:
        "200": { $ref: "#/components/responses/ReportCSV" }
        "400": { $ref: "#/components/responses/BadRequest" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "404": { $ref: "#/components/responses/NotFound" }
  /api/v1/devices:
    get:
      summary: Every device with counts and its state from the status events
      operationId: listDevices
      responses:
        "200":
          description: Devices
          content:
            application/json:
              schema:
                type: object
                required: [devices]
                properties:
                  devices:
                    type: array
                    items: { $ref: "#/components/schemas/Device" }
        "401": { $ref: "#/components/responses/Unauthorized" }
  /api/v1/dead-letters:
    get:
      summary: Dead letters, newest first, with their reasons
      operationId: listDeadLetters
      parameters:
        - name: reason
          in: query
          required: false
          schema: { type: string }
          description: Only dead letters of this reason (e.g. invalid, key_mismatch, unreadable)
      responses:
        "200":
          description: Dead letters
          content:
            application/json:
              schema:
                type: object
                required: [deadLetters, byReason]
                properties:
                  deadLetters:
                    type: array
                    items: { $ref: "#/components/schemas/DeadLetter" }
                  byReason:
                    type: object
                    additionalProperties: { type: integer }
        "401": { $ref: "#/components/responses/Unauthorized" }
  /api/v1/dead-letters/{partition}/{offset}/replay:
    post:
      summary: Publish one dead letter back to the messages topic (once)
      operationId: replayDeadLetter
      parameters:
        - name: partition
          in: path
          required: true
          schema: { type: integer, minimum: 0 }
        - name: offset
          in: path
          required: true
          schema: { type: integer, format: int64, minimum: 0 }
      responses:
        "200":
          description: Replayed
          content:
            application/json:
              schema:
                type: object
                required: [partition, offset, replayedTo, messagePartition, messageOffset]
                properties:
                  partition: { type: integer }
                  offset: { type: integer, format: int64 }
                  replayedTo: { type: string }
                  messagePartition: { type: integer }
                  messageOffset: { type: integer, format: int64 }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "403": { $ref: "#/components/responses/Forbidden" }
        "404": { $ref: "#/components/responses/NotFound" }
        "409":
          description: Replayed already, or unreadable
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Error" }
  /api/v1/dead-letters/replay:
    post:
      summary: Replay every dead letter (optionally of one reason) through `broadcast dlq replay`'s group
      description: Not for tokens bound to a user (other users' letters would go too).
      operationId: replayDeadLetters
      requestBody:
        required: false
        content:
          application/json:
            schema:
              type: object
              properties:
                reason: { type: string }
      responses:
        "200":
          description: What was replayed
          content:
            application/json:
              schema:
                type: object
                properties:
                  replayed: { type: integer }
                  replayedByReason: { type: object, additionalProperties: { type: integer } }
                  leftByFilter: { type: integer }
                  alreadyReplayed: { type: integer }
                  unreadable: { type: integer }
                  deferred: { type: integer }
        "400": { $ref: "#/components/responses/BadRequest" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "403": { $ref: "#/components/responses/Forbidden" }
  /api/v1/messages:
    post:
      summary: Enqueue one BroadcastMessage or an array of up to 1000
      description: |
        Each record is checked by the decoder and rules the workers run (schemas/broadcast.message.v1),
        then published to broadcast.messages keyed by its deviceId, with a `queued` status event. The
        answer lists every record as accepted, refused (with each field and reason) or failed (Kafka
        did not acknowledge it; send it again, the id is the idempotency key). Valid records of a batch
        are published even when others are refused.
      operationId: enqueueMessages
      requestBody:
        required: true
        content:
          application/json:
            schema:
              oneOf:
                - { $ref: "#/components/schemas/BroadcastMessage" }
                - type: array
                  maxItems: 1000
                  items: { $ref: "#/components/schemas/BroadcastMessage" }
      responses:
        "200":
          description: At least one record accepted, or none refused
          content:
            application/json:
              schema: { $ref: "#/components/schemas/IntakeResponse" }
        "400": { $ref: "#/components/responses/BadRequest" }
        "401": { $ref: "#/components/responses/Unauthorized" }
        "403": { $ref: "#/components/responses/Forbidden" }
        "413":
          description: Body over 8 MiB
          content:
            application/json:
              schema: { $ref: "#/components/schemas/Error" }
        "422":
          description: Every record refused
          content:
            application/json:
              schema: { $ref: "#/components/schemas/IntakeResponse" }
        "502":
          description: Kafka did not acknowledge some records
          content:
            application/json:
              schema: { $ref: "#/components/schemas/IntakeResponse" }
components:
  securitySchemes:
    bearer:
      type: http
      scheme: bearer
  parameters:
    Id:
      name: id
      in: path
      required: true
      schema: { type: string }
    Section:
      name: section
      in: query
      required: false
      schema: { type: string, enum: [recipients, devices, steps, all], default: recipients }
  responses:
    Unauthorized:
      description: No token, or not a configured one
      headers:
        WWW-Authenticate:
          schema: { type: string }
      content:
        application/json:
          schema: { $ref: "#/components/schemas/Error" }
    Forbidden:
      description: The token's role is below what the operation needs, or its user may not do it
      content:
        application/json:
          schema: { $ref: "#/components/schemas/Error" }
    NotFound:
      description: Not in the projection (or another user's)
      content:
        application/json:
          schema: { $ref: "#/components/schemas/Error" }
    BadRequest:
      description: The request cannot be read
      content:
        application/json:
          schema: { $ref: "#/components/schemas/Error" }
    ReportCSV:
      description: RFC 4180 CSV, phones masked below admin
      content:
        text/csv:
          schema: { type: string }
    Control:
      description: The control record published to broadcast.control
      content:
        application/json:
          schema:
            type: object
            required: [campaignId, action, at, by, partition, offset]
            properties:
              campaignId: { type: string }
              action: { type: string, enum: [pause, resume, cancel] }
              at: { type: string, format: date-time }
              by: { type: string }
              partition: { type: integer }
              offset: { type: integer, format: int64 }
  schemas:
    Error:
      type: object
      required: [error]
      properties:
        error:
          type: object
          required: [message]
          properties:
            message: { type: string }
            field: { type: string }
    StatusCounts:
      type: object
      description: Messages per latest status (counts messages, not events), with total and pending
      properties:
        queued: { type: integer }
        processing: { type: integer }
        sent: { type: integer }
        retrying: { type: integer }
        failed: { type: integer }
        skipped: { type: integer }
        expired: { type: integer }
        dead_lettered: { type: integer }
        rerouted: { type: integer, description: "moved off a paused device; that device's events follow" }
        total: { type: integer }
        pending: { type: integer }
      additionalProperties: { type: integer }
    Control:
      type: object
      required: [campaignId, action, at, by]
      properties:
        campaignId: { type: string }
        action: { type: string, enum: [pause, resume, cancel] }
        at: { type: string, format: date-time }
        by: { type: string }
    ScopeSummary:
      type: object
      required: [kind, id, userId, counts, firstAt, lastAt, finishedPerSecond, sentLastMinute]
      properties:
        kind: { type: string, enum: [campaign, sequence] }
        id: { type: string }
        userId: { type: string }
        counts: { $ref: "#/components/schemas/StatusCounts" }
        firstAt: { type: string, format: date-time }
        lastAt: { type: string, format: date-time }
        finishedPerSecond: { type: number, description: over the last 5 minutes }
        sentLastMinute: { type: integer }
        etaSeconds: { type: number, nullable: true }
        control: { $ref: "#/components/schemas/Control" }
    KeyedCounts:
      type: object
      required: [key, counts]
      properties:
        key: { type: string }
        counts: { $ref: "#/components/schemas/StatusCounts" }
    ScopeDetail:
      type: object
      required: [summary, devices, steps, sends]
      properties:
        summary: { $ref: "#/components/schemas/ScopeSummary" }
        devices:
          type: array
          items: { $ref: "#/components/schemas/KeyedCounts" }
        steps:
          type: array
          description: By sequence step; a campaign has one step "-"
          items: { $ref: "#/components/schemas/KeyedCounts" }
        sends:
          type: object
          required: [bucketSeconds, points]
          properties:
            bucketSeconds: { type: integer }
            points:
              type: array
              items:
                type: object
                required: [at, sent]
                properties:
                  at: { type: string, format: date-time }
                  sent: { type: integer }
    Device:
      type: object
      required: [deviceId, counts, lastAt, lastStatus, state]
      properties:
        deviceId: { type: string }
        counts: { $ref: "#/components/schemas/StatusCounts" }
        lastAt: { type: string, format: date-time }
        lastSentAt: { type: string, format: date-time }
        lastStatus: { type: string }
        lastReason: { type: string }
        lastErrorCode: { type: string }
        state:
          type: string
          enum: [paused, retired, sending, idle]
          description: retired or paused by an operator (broadcast.devices); paused while cooling off after a ban-like error, or when the latest retrying or skipped event with reason device_paused has no send after it
        stateReason: { type: string }
        stateAt: { type: string, format: date-time }
        operatorStatus: { type: string, enum: [active, paused, retired], description: "from broadcast.devices; absent when the device has no record there" }
        sendsInLastHour: { type: integer, description: "sends in the last hour on any worker, from broadcast.devices" }
        coolingOffUntil: { type: string, format: date-time }
        stateUnreadable: { type: string, description: "why the device's latest state record could not be read (it sends nothing meanwhile)" }
        inboundMessages: { type: integer, description: "messages contacts wrote to the device (broadcast.inbound): replies, STOPs and others" }
    DeadLetter:
      type: object
      required: [partition, offset, reason, valueBytes]
      properties:
        partition: { type: integer }
        offset: { type: integer, format: int64 }
        key: { type: string }
        reason: { type: string }
        error: { type: string }
        sourceTopic: { type: string }
        sourcePartition: { type: integer }
        sourceOffset: { type: integer, format: int64 }
        worker: { type: string }
        at: { type: string, format: date-time }
        messageId: { type: string }
        userId: { type: string }
        campaignId: { type: string }
        sequenceId: { type: string }
        deviceId: { type: string }
        recipientPhone: { type: string, description: masked below admin }
        valueBytes: { type: integer }
        replayedAt: { type: string, format: date-time }
        replayedBy: { type: string }
    BroadcastMessage:
      type: object
      description: The broadcast.message.v1 record (schemas/broadcast.message.v1.schema.json has every rule)
      required: [schema, id, userId, deviceId, source, recipient, content, delay, scheduledAt, createdAt]
      properties:
        schema: { type: string, enum: [broadcast.message.v1] }
        id: { type: string }
        userId: { type: string }
        deviceId: { type: string }
        source: { type: string, enum: [campaign, sequence, api] }
        campaignId: { type: string }
        sequenceId: { type: string }
        sequenceStepId: { type: string }
        recipient:
          type: object
          required: [phone]
          properties:
            phone: { type: string, description: E.164 }
            name: { type: string }
        content:
          type: object
          required: [type]
          properties:
            type: { type: string, enum: [text, image, video, document, audio] }
            text: { type: string }
            mediaUrl: { type: string }
            fileName: { type: string }
        delay:
          type: object
          required: [minSeconds, maxSeconds]
          properties:
            minSeconds: { type: number }
            maxSeconds: { type: number }
        scheduledAt: { type: string, format: date-time }
        expiresAt: { type: string, format: date-time }
        createdAt: { type: string, format: date-time }
        attributes:
          type: object
          additionalProperties: { type: string }
    IntakeResponse:
      type: object
      required: [accepted, refused, failed, results]
      properties:
        accepted: { type: integer }
        refused: { type: integer }
        failed: { type: integer }
        results:
          type: array
          items:
            type: object
            required: [index, outcome, issues]
            properties:
              index: { type: integer }
              id: { type: string }
              outcome: { type: string, enum: [accepted, refused, failed] }
              issues:
                type: array
                items:
                  type: object
                  required: [field, reason]
                  properties:
                    field: { type: string, description: "JSON path of the field, e.g. recipient.phone (empty: the whole record)" }
                    reason: { type: string }
              partition: { type: integer }
              offset: { type: integer, format: int64 }
    CampaignUpload:
      type: object
      required: [campaign, recipients]
      properties:
        campaign: { type: string, description: The campaign file's text }
        format: { type: string, enum: [yaml, json], default: yaml }
        recipients: { type: string, description: The recipients CSV's text }
        skipInvalid: { type: boolean, default: false }
        defaultCountry: { type: string, description: "Country calling code for local numbers, e.g. 60" }
        dryRun: { type: boolean, default: false }
    CampaignUploadResult:
      type: object
      required: [outcome, fieldIssues, rowIssues, warnings]
      properties:
        campaignId: { type: string }
        outcome: { type: string, enum: [published, partly_published, dry_run, refused] }
        fieldIssues:
          type: array
          items:
            type: object
            required: [field, message]
            properties:
              field: { type: string }
              message: { type: string }
        rowIssues:
          type: array
          items:
            type: object
            required: [line, reason]
            properties:
              line: { type: integer }
              reason: { type: string }
        counts: { type: object, additionalProperties: { type: integer } }
        perDevice:
          type: array
          items:
            type: object
            properties:
              device: { type: string }
              recipients: { type: integer }
        report: { type: object, description: "What `broadcast publish campaign --json` prints" }
        warnings:
          type: array
          items: { type: string }

"""#
}
