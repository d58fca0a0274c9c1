// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Base of the hostile token zoo: a small owned ERC-20 whose moves the zoo's tokens bend.
/// @dev Never part of the replica state; tests and audits deploy the zoo on demand. Balances are
///      kept in stored units that `_toStored`/`_fromStored` convert to and from token amounts
///      (identity here, shares in RebasingToken). Every transfer goes through `_transfer`.
abstract contract ZooERC20 {
    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    event Transfer(address indexed from, address indexed to, uint256 amount);
    event Approval(address indexed owner, address indexed spender, uint256 amount);

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    error NotOwner(address caller, address owner);
    error InsufficientBalance(address from, uint256 balance, uint256 needed);
    error InsufficientAllowance(address owner, address spender, uint256 allowance, uint256 needed);

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    string public name;
    string public symbol;
    uint8 public immutable decimals;
    /// @notice The deployer: the only account that may mint or change the token's behaviour.
    address public immutable owner;
    uint256 internal _totalStored; // sum of _stored
    mapping(address => uint256) internal _stored; // balances in stored units
    mapping(address => mapping(address => uint256)) public allowance;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor(string memory _name, string memory _symbol, uint8 _decimals, address holder, uint256 supply) {
        name = _name;
        symbol = _symbol;
        decimals = _decimals;
        owner = msg.sender;
        _mint(holder, supply);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender, owner);
        _;
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice Total tokens in existence.
    /// @return The supply, in the token's smallest unit.
    function totalSupply() external view returns (uint256) {
        return _fromStored(_totalStored);
    }

    /// @notice Tokens held by `account`.
    /// @param account The holder.
    /// @return The balance, in the token's smallest unit.
    function balanceOf(address account) public view returns (uint256) {
        return _fromStored(_stored[account]);
    }

    /*//////////////////////////////////////////////////////////////
                                  LOGIC
    //////////////////////////////////////////////////////////////*/

    /// @notice Allow `spender` to move up to `amount` of the caller's tokens.
    /// @param spender The approved spender.
    /// @param amount The allowance; type(uint256).max is never spent.
    /// @return Always true.
    function approve(address spender, uint256 amount) external returns (bool) {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
        return true;
    }

    /// @notice Move `amount` of the caller's tokens to `to` (as the token bends it).
    /// @param to The recipient.
    /// @param amount The amount, in the token's smallest unit.
    /// @return True on success.
    function transfer(address to, uint256 amount) external virtual returns (bool) {
        _transfer(msg.sender, to, amount);
        return true;
    }

    /// @notice Move `amount` from `from` to `to` with the caller's allowance (as the token bends it).
    /// @param from The holder.
    /// @param to The recipient.
    /// @param amount The amount, in the token's smallest unit.
    /// @return True on success.
    function transferFrom(address from, address to, uint256 amount) external virtual returns (bool) {
        _spendAllowance(from, amount);
        _transfer(from, to, amount);
        return true;
    }

    /// @notice Create `amount` new tokens for `to`. Owner only: the zoo's stand-in for `deal`.
    /// @param to The recipient.
    /// @param amount The amount, in the token's smallest unit.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNALS
    //////////////////////////////////////////////////////////////*/

    /// @dev Where a token bends a transfer; the plain move by default.
    function _transfer(address from, address to, uint256 amount) internal virtual {
        _move(from, to, amount);
    }

    function _toStored(uint256 amount) internal view virtual returns (uint256) {
        return amount;
    }

    function _fromStored(uint256 units) internal view virtual returns (uint256) {
        return units;
    }

    function _spendAllowance(address from, uint256 amount) internal {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            if (allowed < amount) revert InsufficientAllowance(from, msg.sender, allowed, amount);
            unchecked {
                allowance[from][msg.sender] = allowed - amount; // checked just above
            }
        }
    }

    function _move(address from, address to, uint256 amount) internal {
        uint256 units = _toStored(amount);
        uint256 bal = _stored[from];
        if (bal < units) revert InsufficientBalance(from, _fromStored(bal), amount);
        unchecked {
            _stored[from] = bal - units; // checked just above
            _stored[to] += units; // the sum of _stored is _totalStored, checked in _mint
        }
        emit Transfer(from, to, amount);
    }

    function _mint(address to, uint256 amount) internal {
        uint256 units = _toStored(amount);
        _totalStored += units; // checked: bounds every balance
        unchecked {
            _stored[to] += units;
        }
        emit Transfer(address(0), to, amount);
    }

    function _burn(address from, uint256 amount) internal {
        uint256 units = _toStored(amount);
        uint256 bal = _stored[from];
        if (bal < units) revert InsufficientBalance(from, _fromStored(bal), amount);
        unchecked {
            _stored[from] = bal - units; // checked just above
            _totalStored -= units; // a balance is part of the total
        }
        emit Transfer(from, address(0), amount);
    }
}
