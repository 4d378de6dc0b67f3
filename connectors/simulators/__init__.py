"""Simulated government agencies with synthetic, deterministic data, so the demo and tests run offline.

Each agency is a small FastAPI app behind a gate that behaves like a real system (latency, failures,
rate limits, outages, idempotency keys, an access log); `create_sandbox_app` mounts them all:

=====================  =====================================  ==================================
prefix                 endpoint                               module
=====================  =====================================  ==================================
/civil-registry        GET /persons/{national_code}           `civil_registry`
                       GET /marriages/{national_code},
                       GET /first-names/check, POST /births
/mobile-registry       POST /ownership                        `mobile_registry`
/post                  POST /soap (SOAP 1.1)                  `post`
/tax                   GET /taxpayers/{id}                    `tax`
/business-registry     GET /companies/{legal_id}              `business_registry`
/sms                   POST /messages, GET /messages          `sms`
/mail                  POST /messages, GET /messages          `mail`
/judiciary             GET /criminal-records/{national_code}  `judiciary`
/conscription          GET /service-status/{national_code}    `conscription`
/payment               POST /requests, /verify, /refunds;     `payment`
                       GET, POST /pay/{token} (the page)
/health-ministry       GET /birth-records                     `health_ministry`
=====================  =====================================  ==================================

Demo identities: citizen 0013542419 (mobile 09121234567, postal code 1193653471, CEO of company
10380284790); deceased 2720123455; minor 3678123457; not registered 0061234567 and 14009999995;
dissolved company 10100654321; criminal record 0040010007 (financial) and
0040010082 (violent); military service absent 0040010155, serving 0040010244, exempt 0040010309; births (mother, father)
9876543210 + 0013542419, 0081500009 + 0081500017 (late), 0081500033 + 0081500041 (marriage not
registered), no birth record 0081500025.
The module docstrings give exact payloads.

The sandbox imports nothing from `engine`: it stands for other agencies' systems, not ours.
"""

from connectors.simulators.app import create_sandbox_app
from connectors.simulators.settings import SERVICES, Behaviour, SandboxSettings

__all__ = ["SERVICES", "Behaviour", "SandboxSettings", "create_sandbox_app"]
