# traffic: the familiar recipes. With Docker they drive LocalStack, Terraform and the AWS CLI
# (docker-compose.yml); with LOCAL=1 the same recipes run on this machine against the embedded
# default (`npm start` serves an SQS endpoint on 127.0.0.1:4566), no Docker needed:
#
#   make LOCAL=1 start-traffic-processor      # terminal 1
#   make LOCAL=1 create-traffic-type-in       # terminal 2
#   make LOCAL=1 create-traffic-referrer

.DEFAULT_GOAL := all
.PHONY: all help up apply deploy-traffic-agent-lambda create-traffic-type-in create-traffic-direct \
        create-traffic-referrer start-traffic-processor stop logs queues dlq redrive build-agent

LOCAL ?=
COMPOSE ?= docker compose
TF := $(COMPOSE) run --rm terraform
TYPE_IN_EVENT := {"queryStringParameters":{"type":"type-in","ip":"127.0.0.1"}}
DIRECT_EVENT := {"queryStringParameters":{"type":"direct","ip":"127.0.0.1"}}
REFERRER_EVENT := {"queryStringParameters":{"type":"referrer","url":"test.com"}}

ifeq ($(LOCAL),)
SQS_ENDPOINT := http://localstack:4566
AWS := $(COMPOSE) run --rm aws-cli
else
SQS_ENDPOINT := http://127.0.0.1:$(or $(EMBEDDED_SQS_PORT),4566)
AWS := AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url $(SQS_ENDPOINT)
endif
QUEUE_URL := $(SQS_ENDPOINT)/000000000000/dev-traffic-queue
DLQ_URL := $(SQS_ENDPOINT)/000000000000/dev-traffic-queue-dlq

help: ## List the recipes
	@echo "make [LOCAL=1] <recipe>   (LOCAL=1: no Docker, against the embedded default of npm start)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-30s %s\n", $$1, $$2}'

ifeq ($(LOCAL),)

all: up apply ## Start LocalStack and apply Terraform (dev)

up: ## Start LocalStack
	$(COMPOSE) up -d --wait localstack

apply: build-agent ## Apply terraform/environments/dev to LocalStack
	$(TF) init -input=false
	$(TF) apply -input=false -auto-approve

deploy-traffic-agent-lambda: build-agent ## Build the agent zip and (re)deploy the Lambda
	$(TF) init -input=false
	$(TF) apply -input=false -auto-approve -target=module.traffic.module.traffic_agent

create-traffic-type-in: ## Invoke the agent with a type-in visit
	$(AWS) lambda invoke --function-name dev-traffic-agent --cli-binary-format raw-in-base64-out \
	  --payload '$(TYPE_IN_EVENT)' /dev/stdout

create-traffic-direct: ## Invoke the agent with a direct visit (alias of type-in)
	$(AWS) lambda invoke --function-name dev-traffic-agent --cli-binary-format raw-in-base64-out \
	  --payload '$(DIRECT_EVENT)' /dev/stdout

create-traffic-referrer: ## Invoke the agent with a referrer visit
	$(AWS) lambda invoke --function-name dev-traffic-agent --cli-binary-format raw-in-base64-out \
	  --payload '$(REFERRER_EVENT)' /dev/stdout

start-traffic-processor: ## Run the processor against LocalStack (foreground)
	$(COMPOSE) --profile processor up processor

stop: ## Stop and remove every container
	$(COMPOSE) --profile processor --profile tools down

logs: ## Follow LocalStack and processor logs
	$(COMPOSE) --profile processor logs -f

else

all:
	npm ci
	@echo "Nothing to provision: 'make LOCAL=1 start-traffic-processor' starts the embedded SQS endpoint and creates the queues."

up apply:
	@echo "LOCAL=1: nothing to start; 'make LOCAL=1 start-traffic-processor' serves the queues."

deploy-traffic-agent-lambda: build-agent
	@echo "LOCAL=1: no Lambda runtime here; create-traffic-* run the same handler with npm run agent:invoke."

create-traffic-type-in:
	npm run -s agent:invoke -- '$(TYPE_IN_EVENT)'

create-traffic-direct:
	npm run -s agent:invoke -- '$(DIRECT_EVENT)'

create-traffic-referrer:
	npm run -s agent:invoke -- '$(REFERRER_EVENT)'

# exec: the processor gets SIGINT/SIGTERM itself and drains.
start-traffic-processor:
	exec node_modules/.bin/node --max-semi-space-size=8 src/processor/main.ts

stop:
	-pkill -TERM -f 'node src/processor/main.ts'

logs:
	@echo "LOCAL=1: the processor logs to the terminal it runs in."

endif

build-agent: ## Bundle the agent into dist/traffic-agent.zip
	npm run -s build:agent

queues: ## List queues and the PIPELINE/DLQ depths
	$(AWS) sqs list-queues
	$(AWS) sqs get-queue-attributes --queue-url $(QUEUE_URL) --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible
	$(AWS) sqs get-queue-attributes --queue-url $(DLQ_URL) --attribute-names ApproximateNumberOfMessages

dlq: ## Show up to 10 dead-lettered messages with their reasons (left in the DLQ)
	$(AWS) sqs receive-message --queue-url $(DLQ_URL) --max-number-of-messages 10 --visibility-timeout 0 \
	  --message-attribute-names All --attribute-names ApproximateReceiveCount

redrive: ## Move dead-lettered messages back to the PIPELINE
	AWS_ENDPOINT_URL=$(subst localstack,localhost,$(SQS_ENDPOINT)) npm run -s redrive
