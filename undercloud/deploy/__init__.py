"""The overcloud deployer: the plan file (plan.py), the role catalogue (roles.py) and what
`stackbox overcloud plan` prints (show.py)."""
