# traffic: the familiar recipes. With Docker they drive LocalStack, Terraform and the AWS CLI
# (docker-compose.yml, Docker Compose v2.20 or later); with LOCAL=1 the same recipes run on this
# machine against the embedded default (`npm start` serves an SQS endpoint on 127.0.0.1:4566),
# no Docker needed:
#
#   make LOCAL=1 start-traffic-processor      # terminal 1
#   make LOCAL=1 create-traffic-type-in       # terminal 2
#   make LOCAL=1 create-traffic-referrer
#   make LOCAL=1 stop                         # stops the processor started above
#
# Every recipe fails (non-zero) when what it runs fails, and says why. Recipes that run project
# code install node_modules first (npm ci) when it is missing.

.DEFAULT_GOAL := all
.PHONY: all help install compose-v2 reset up apply deploy-traffic-agent-lambda create-traffic-type-in \
        create-traffic-direct create-traffic-referrer start-traffic-processor stop logs queues dlq \
        redrive build-agent

LOCAL ?=
COMPOSE ?= docker compose
# The oldest Docker Compose the recipes are written for: `up --wait`, the top-level `name`,
# `run` of a service in a profile, `up --exit-code-from` leaving the dependencies running.
MIN_COMPOSE := 2.20.0
PROFILES := --profile processor --profile tools
TF_DIR := terraform/environments/dev
TF := $(COMPOSE) run --rm terraform
AGENT_FUNCTION := dev-traffic-agent
AGENT_RESPONSE := dist/agent-response.json
TYPE_IN_EVENT := {"queryStringParameters":{"type":"type-in","ip":"127.0.0.1"}}
DIRECT_EVENT := {"queryStringParameters":{"type":"direct","ip":"127.0.0.1"}}
REFERRER_EVENT := {"queryStringParameters":{"type":"referrer","url":"test.com"}}
# The processor `make LOCAL=1 start-traffic-processor` started, for `make LOCAL=1 stop`.
PROCESSOR_PID_FILE ?= run/processor.pid
# How long `make LOCAL=1 stop` waits for the processor to drain and exit.
STOP_WAIT_SECONDS ?= 60

# Terraform and the AWS CLI run in containers as you, so what they write into the checkout
# (.terraform/, state, the agent's response) is yours, not root's.
export HOST_UID ?= $(shell id -u)
export HOST_GID ?= $(shell id -g)

ifeq ($(LOCAL),)
SQS_ENDPOINT := http://localstack:4566
AWS := $(COMPOSE) run --rm -T aws-cli
else
SQS_ENDPOINT := http://127.0.0.1:$(or $(EMBEDDED_SQS_PORT),4566)
AWS := AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url $(SQS_ENDPOINT)
endif
QUEUE_URL := $(SQS_ENDPOINT)/000000000000/dev-traffic-queue
DLQ_URL := $(SQS_ENDPOINT)/000000000000/dev-traffic-queue-dlq

NODE_MODULES := node_modules/.package-lock.json

help: ## List the recipes
	@echo "make [LOCAL=1] <recipe>   (LOCAL=1: no Docker, against the embedded default of npm start)"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-30s %s\n", $$1, $$2}'

# npm ci when node_modules is missing (a fresh clone). Only then: a recipe never replaces the
# node_modules a running test or processor uses. After a pull that changes the lock file,
# run `make install`.
$(NODE_MODULES):
	npm ci --no-audit --no-fund

install: ## Install node_modules exactly as package-lock.json says (npm ci)
	npm ci --no-audit --no-fund

build-agent: $(NODE_MODULES) ## Bundle the agent into dist/traffic-agent.zip
	npm run -s build:agent

redrive: $(NODE_MODULES) ## Move dead-lettered messages back to the PIPELINE
	AWS_ENDPOINT_URL=$(subst localstack,localhost,$(SQS_ENDPOINT)) npm run -s redrive

ifeq ($(LOCAL),)

# One line instead of docker's "unknown shorthand flag: 'd'" when Compose v2 is missing or old.
compose-v2:
	@version=$$($(COMPOSE) version --short 2>/dev/null) || { \
	  echo "make: Docker Compose v2 ('$(COMPOSE)', $(MIN_COMPOSE) or later) is not available: install it, or run without Docker: make LOCAL=1 $(or $(MAKECMDGOALS),all)" >&2; exit 1; }; \
	version=$${version#v}; \
	if [ "$$(printf '%s\n' '$(MIN_COMPOSE)' "$$version" | sort -t. -k1,1n -k2,2n -k3,3n | head -n 1)" != '$(MIN_COMPOSE)' ]; then \
	  echo "make: Docker Compose $$version is older than $(MIN_COMPOSE): upgrade it, or run without Docker: make LOCAL=1 $(or $(MAKECMDGOALS),all)" >&2; exit 1; fi

all: compose-v2 ## Restart the environment: stop, forget the old state, start LocalStack, apply Terraform (dev)
	@$(MAKE) --no-print-directory reset
	@$(MAKE) --no-print-directory up
	@$(MAKE) --no-print-directory apply

reset: compose-v2 ## Stop every container and forget LocalStack's and Terraform's state
	$(COMPOSE) $(PROFILES) down --volumes --remove-orphans
	rm -f $(TF_DIR)/terraform.tfstate $(TF_DIR)/terraform.tfstate.backup

up: compose-v2 ## Start LocalStack
	$(COMPOSE) up -d --wait localstack

apply: compose-v2 build-agent ## Apply terraform/environments/dev to LocalStack
	$(TF) init -input=false
	$(TF) apply -input=false -auto-approve

deploy-traffic-agent-lambda: compose-v2 build-agent ## Build the agent zip and (re)deploy the Lambda
	$(TF) init -input=false
	$(TF) apply -input=false -auto-approve -target=module.traffic.module.traffic_agent

# `aws lambda invoke` exits 0 even when the function failed: its FunctionError (printed alone by
# --query) and the response's statusCode decide. $(1): the event.
define invoke_agent
	@mkdir -p $(dir $(AGENT_RESPONSE))
	@rm -f $(AGENT_RESPONSE)
	@error=$$($(AWS) lambda invoke --function-name $(AGENT_FUNCTION) --cli-binary-format raw-in-base64-out \
	  --payload '$(1)' --query FunctionError --output text $(AGENT_RESPONSE)) || { \
	  echo "make: aws lambda invoke $(AGENT_FUNCTION) failed (exit $$?)" >&2; exit 1; }; \
	response=$$(cat $(AGENT_RESPONSE) 2>/dev/null); \
	echo "$$response"; \
	if [ -n "$$error" ] && [ "$$error" != None ]; then \
	  echo "make: $(AGENT_FUNCTION) failed ($$error): $$response" >&2; exit 1; fi; \
	case "$$response" in *'"statusCode":2'[0-9][0-9]*) ;; \
	  *) echo "make: $(AGENT_FUNCTION) did not accept the visit: $$response" >&2; exit 1;; esac
endef

create-traffic-type-in: compose-v2 ## Invoke the agent with a type-in visit
	$(call invoke_agent,$(TYPE_IN_EVENT))

create-traffic-direct: compose-v2 ## Invoke the agent with a direct visit (alias of type-in)
	$(call invoke_agent,$(DIRECT_EVENT))

create-traffic-referrer: compose-v2 ## Invoke the agent with a referrer visit
	$(call invoke_agent,$(REFERRER_EVENT))

# The processor image is built from the Dockerfile; --exit-code-from makes this recipe fail
# when the processor exits non-zero (LocalStack, a dependency, keeps running).
start-traffic-processor: compose-v2 ## Build the processor image and run it against LocalStack (foreground)
	$(COMPOSE) --profile processor up --build --exit-code-from processor processor

stop: compose-v2 ## Stop and remove every container (LocalStack's data is kept; `make` forgets it)
	$(COMPOSE) $(PROFILES) down --remove-orphans

logs: compose-v2 ## Follow LocalStack and processor logs
	$(COMPOSE) --profile processor logs -f

queues dlq: compose-v2

else

all: $(NODE_MODULES)
	@echo "LOCAL=1: nothing to provision: 'make LOCAL=1 start-traffic-processor' starts the embedded SQS endpoint and creates the queues."

reset up apply:
	@echo "LOCAL=1: nothing to start; 'make LOCAL=1 start-traffic-processor' serves the queues."

deploy-traffic-agent-lambda: build-agent
	@echo "LOCAL=1: no Lambda runtime here; create-traffic-* run the same handler with npm run agent:invoke."

# agent:invoke exits 1 when the handler throws or answers other than 2xx.
create-traffic-type-in: $(NODE_MODULES)
	npm run -s agent:invoke -- '$(TYPE_IN_EVENT)'

create-traffic-direct: $(NODE_MODULES)
	npm run -s agent:invoke -- '$(DIRECT_EVENT)'

create-traffic-referrer: $(NODE_MODULES)
	npm run -s agent:invoke -- '$(REFERRER_EVENT)'

# The shell writes its own pid, then exec makes it the processor: the pid file names exactly
# this processor, and the processor gets SIGINT/SIGTERM itself and drains. Node flags: the
# ones npm start uses (package.json config.nodeFlags).
start-traffic-processor: $(NODE_MODULES)
	@if [ -f $(PROCESSOR_PID_FILE) ] && pid=$$(cat $(PROCESSOR_PID_FILE)) && kill -0 "$$pid" 2>/dev/null \
	  && ps -p "$$pid" -o args= | grep -q 'src/processor/main.ts'; then \
	  echo "make: the processor started by make is already running (pid $$pid): make LOCAL=1 stop" >&2; exit 1; fi
	@mkdir -p $(dir $(PROCESSOR_PID_FILE))
	echo $$$$ > $(PROCESSOR_PID_FILE); exec node_modules/.bin/node $$(node_modules/.bin/node -p 'require("./package.json").config.nodeFlags') src/processor/main.ts

# SIGTERM to the pid start-traffic-processor recorded (never a pattern), then wait for the drain.
stop:
	@if [ ! -f $(PROCESSOR_PID_FILE) ]; then echo "LOCAL=1: no processor started by make ($(PROCESSOR_PID_FILE) is absent)"; exit 0; fi; \
	pid=$$(cat $(PROCESSOR_PID_FILE)); \
	if ! kill -0 "$$pid" 2>/dev/null || ! ps -p "$$pid" -o args= | grep -q 'src/processor/main.ts'; then \
	  echo "LOCAL=1: the processor (pid $$pid) has already exited"; rm -f $(PROCESSOR_PID_FILE); exit 0; fi; \
	kill -TERM "$$pid" || { echo "make: could not signal the processor (pid $$pid)" >&2; exit 1; }; \
	echo "LOCAL=1: stopping the processor (pid $$pid): it drains what is in flight"; \
	waited=0; while kill -0 "$$pid" 2>/dev/null; do \
	  if [ $$waited -ge $(STOP_WAIT_SECONDS) ]; then echo "make: the processor (pid $$pid) is still running after $(STOP_WAIT_SECONDS) s" >&2; exit 1; fi; \
	  sleep 1; waited=$$((waited + 1)); done; \
	rm -f $(PROCESSOR_PID_FILE); echo "LOCAL=1: the processor (pid $$pid) stopped"

logs:
	@echo "LOCAL=1: the processor logs to the terminal it runs in."

endif

queues: ## List queues and the PIPELINE/DLQ depths
	$(AWS) sqs list-queues
	$(AWS) sqs get-queue-attributes --queue-url $(QUEUE_URL) --attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible
	$(AWS) sqs get-queue-attributes --queue-url $(DLQ_URL) --attribute-names ApproximateNumberOfMessages

dlq: ## Show up to 10 dead-lettered messages with their reasons (left in the DLQ)
	$(AWS) sqs receive-message --queue-url $(DLQ_URL) --max-number-of-messages 10 --visibility-timeout 0 \
	  --message-attribute-names All --attribute-names ApproximateReceiveCount
